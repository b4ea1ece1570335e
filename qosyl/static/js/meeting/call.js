// A video meeting page (meetings/show.html): the pre-join screen (preview, microphone level,
// device pickers), then the call: a full mesh of RTCPeerConnections (peer.js), signalled
// over the tab's Socket.IO connection through the server, which relays only between
// participants of the same meeting (blueprints/meetings/events.py).
// Loaded by main.js (base.html) only when a page has a meeting: most pages have none.
import { socket } from "../socket.js";
import { toast } from "../toast.js";
import { levelOf, listDevices, openMedia, openTrack } from "./media.js";
import { Peer } from "./peer.js";
import { makeListItem, makeTile, showReconnecting, showSpeaking, showState } from "./tiles.js";

const SPEAKING_LEVEL = 0.08;   // local meter, 0-1
const REMOTE_SPEAKING_LEVEL = 0.02;  // getStats audioLevel, 0-1
const LOST_AFTER_MS = 15000;  // a failed connection that ICE restarts did not bring back
const REJOIN_KEY = (id) => `qosyl:meeting:${id}`;

let current = null;  // the meeting on this page, if any

function csrfToken() {
  try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch { return ""; }
}

// Connected, or false after `ms`: a page just loaded (a rejoin after a reload) may be
// ready to join before its socket is.
function connected(ms = 10000) {
  if (socket.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok) => { clearTimeout(timer); socket.off("connect", onConnect); resolve(ok); };
    const onConnect = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    socket.on("connect", onConnect);
  });
}

async function emit(name, data) {
  if (!(await connected())) return { error: "Not connected: check your network." };
  return new Promise((resolve) => {
    socket.timeout(10000).emit(name, data, (error, reply) => {
      resolve(error ? { error: "The server did not answer: check your network." } : reply || {});
    });
  });
}

class Meeting {
  constructor(root) {
    this.root = root;
    this.id = root.dataset.meeting;
    this.hostId = Number(root.dataset.hostId);
    this.isHost = String(this.hostId) === document.body.dataset.userId;
    this.joinUrl = root.dataset.joinUrl;
    this.me = { name: root.dataset.meName, avatarUrl: root.dataset.meAvatar };
    this.q = (selector) => root.querySelector(selector);
    this.peers = new Map();  // sid -> {peer, user, view, item, state, speaking}
    this.local = { stream: new MediaStream(), audio: null, video: null, screen: null };
    this.flags = { audio: true, video: true, screen: false };
    this.joined = false;
    this.sid = null;
    this.config = { iceServers: [] };
    this.meter = null;
    this.devicesReady = Promise.resolve();
    this.timers = [];
    this.listeners = [];
    this.wire();
  }

  // Pre-join

  async prepare() {
    const saved = sessionStorage.getItem(REJOIN_KEY(this.id));
    const wanted = saved ? JSON.parse(saved) : { audio: true, video: true };
    this.q("[data-join-camera-off]").checked = !wanted.video;
    this.q("[data-join-microphone-off]").checked = !wanted.audio;
    this.devicesReady = this.openDevices();
    await this.devicesReady;
    // Reloaded during a call: back in at once, as it was.
    if (saved) this.join();
  }

  async openDevices() {
    const devices = this.chosenDevices();
    const { stream, problem } = await openMedia({ audio: true, video: true }, devices);
    if (!this.root.isConnected) { stream.getTracks().forEach((t) => t.stop()); return; }
    this.setLocalTracks(stream);
    this.q("[data-device-message]").textContent = problem;
    await listDevices(this.root.querySelectorAll("[data-device]"));
    if (!this.local.video) this.q("[data-join-camera-off]").checked = true;
    if (!this.local.audio) this.q("[data-join-microphone-off]").checked = true;
    this.q("[data-join-camera-off]").disabled = !this.local.video;
    this.q("[data-join-microphone-off]").disabled = !this.local.audio;
    this.showPreview();
  }

  chosenDevices() {
    const devices = {};
    for (const select of this.root.querySelectorAll("[data-device]")) devices[select.dataset.device] = select.value;
    return devices;
  }

  setLocalTracks(stream) {
    for (const track of this.local.stream.getTracks()) track.stop();
    this.local.stream = stream;
    this.local.audio = stream.getAudioTracks()[0] || null;
    this.local.video = stream.getVideoTracks()[0] || null;
    this.startMeter();
  }

  startMeter() {
    if (this.meter) this.meter.stop();
    clearInterval(this.meterTimer);
    this.meter = levelOf(this.local.audio);
    const meterElement = this.q("[data-level]");
    const tick = () => {
      if (!this.root.isConnected) return;
      const level = this.local.audio && this.local.audio.enabled ? this.meter.read() : 0;
      meterElement.value = level;
      if (this.localView) showSpeaking(this.localView, this.flags.audio && level > SPEAKING_LEVEL);
    };
    this.meterTimer = setInterval(tick, 150);
  }

  showPreview() {
    const video = this.q("[data-preview]");
    const off = this.q("[data-join-camera-off]").checked || !this.local.video;
    video.srcObject = off ? null : new MediaStream([this.local.video]);
    video.hidden = off;
    this.q("[data-preview-off]").hidden = !off;
  }

  // Joining and leaving

  async join() {
    const button = this.q("[data-join]");
    const status = this.q("[data-join-status]");
    button.disabled = true;
    status.textContent = "Joining…";
    await this.devicesReady;  // a quick click must not join before the camera opened
    // Into the meeting's chat first (a standalone meeting's group takes the newcomer in).
    let response;
    try {
      response = await fetch(this.joinUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      });
    } catch {
      response = null;
    }
    if (!response || !response.ok) {
      button.disabled = false;
      sessionStorage.removeItem(REJOIN_KEY(this.id));
      status.textContent = !response
        ? "Could not reach Qosyl: check your network and try again."
        : response.status === 404
          ? "This meeting has ended, or you cannot join it."
          : "You cannot join this meeting.";
      return;
    }
    const chat = this.q("[data-meeting-chat]");
    if (!chat.querySelector(".chat")) htmx.swap(chat, await response.text(), { swapStyle: "innerHTML" });
    this.flags.video = Boolean(this.local.video) && !this.q("[data-join-camera-off]").checked;
    this.flags.audio = Boolean(this.local.audio) && !this.q("[data-join-microphone-off]").checked;
    if (this.local.video && !this.flags.video) { this.local.video.stop(); this.local.video = null; }
    if (this.local.audio) this.local.audio.enabled = this.flags.audio;
    const reply = await this.enter();
    if (reply.error) {
      button.disabled = false;
      status.textContent = reply.error;
      sessionStorage.removeItem(REJOIN_KEY(this.id));
      return;
    }
    status.textContent = "";
    this.q("[data-prejoin]").hidden = true;
    this.q("[data-over]").hidden = true;
    this.q("[data-call]").hidden = false;
    this.q("[data-preview]").srcObject = null;
    this.showControls();
  }

  // Ask the server to let this tab in, and call everyone already there.
  async enter() {
    const reply = await emit("meeting:join", { meeting_id: this.id });
    if (reply.error) return reply;
    this.joined = true;
    this.sid = reply.you;
    this.config = { iceServers: reply.ice_servers || [] };
    if (reply.ice_transport_policy) this.config.iceTransportPolicy = reply.ice_transport_policy;
    sessionStorage.setItem(REJOIN_KEY(this.id), JSON.stringify({ audio: this.flags.audio, video: this.flags.video }));
    this.showSelf();
    for (const { sid, user, state } of reply.participants) {
      const entry = this.addPeer(sid, user, state);
      entry.peer.start(this.outgoing());
    }
    this.sendState();
    this.timers.push(setInterval(() => this.pollStats(), 500));
    this.status("");
    return reply;
  }

  // Out of the call: by choice (Rejoin is offered), or removed or ended (`final`).
  leave(reason, final = false) {
    if (this.joined) emit("meeting:leave", { meeting_id: this.id });
    this.hangUp();
    sessionStorage.removeItem(REJOIN_KEY(this.id));
    this.q("[data-call]").hidden = true;
    const over = this.q("[data-over]");
    over.hidden = false;
    const text = this.q("[data-over-text]");
    text.textContent = reason || "You left the meeting.";
    this.q("[data-rejoin]").hidden = final;
    text.focus();
  }

  // Closes every connection and stops the camera, microphone and screen.
  hangUp() {
    this.joined = false;
    for (const sid of [...this.peers.keys()]) this.dropPeer(sid);
    for (const track of [this.local.audio, this.local.video, this.local.screen]) if (track) track.stop();
    this.local.audio = this.local.video = this.local.screen = null;
    this.flags.screen = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearInterval(this.meterTimer);
    if (this.meter) { this.meter.stop(); this.meter = null; }
    if (this.localView) { this.localView.tile.remove(); this.localView.item.item.remove(); this.localView = null; }
    this.count();
  }

  // The page goes: on a reload (`unloading`) the call resumes on the next page; a link
  // followed elsewhere leaves it.
  destroy(unloading = false) {
    if (!unloading) sessionStorage.removeItem(REJOIN_KEY(this.id));
    if (this.joined) emit("meeting:leave", { meeting_id: this.id });
    this.hangUp();
    for (const track of this.local.stream.getTracks()) track.stop();
    for (const [name, handler] of this.listeners) socket.off(name, handler);
  }

  // People

  showSelf() {
    const view = makeTile({ ...this.me, local: true });
    view.item = makeListItem({ name: this.me.name, isHost: this.isHost, local: true });
    this.q("[data-tiles]").prepend(view.tile);
    this.q("[data-participants]").prepend(view.item.item);
    this.localView = view;
    this.showLocal();
    this.count();
  }

  showLocal() {
    const track = this.local.screen || (this.flags.video ? this.local.video : null);
    const video = this.localView.video;
    video.srcObject = track ? new MediaStream([track]) : null;
    video.classList.toggle("tile__video--mirror", !this.local.screen);
    showState(this.localView, this.flags);
  }

  addPeer(sid, user, state) {
    const existing = this.peers.get(sid);
    if (existing) return existing;
    const view = makeTile({ name: user.full_name, avatarUrl: user.avatar_url, local: false });
    view.item = makeListItem({
      name: user.full_name,
      isHost: user.id === this.hostId,
      local: false,
      hostControls: this.isHost,
    });
    const entry = { user, view, state: state || null, speaking: false };
    entry.peer = new Peer({
      sid,
      polite: this.sid < sid,
      config: this.config,
      send: (message) => emit("meeting:signal", { meeting_id: this.id, to: sid, ...message }),
      onTrack: (stream) => this.play(view.video, stream),
      onState: (connection) => this.connectionChanged(sid, connection),
    });
    if (view.item.muteButton) {
      view.item.muteButton.addEventListener("click", () => this.hostAction("meeting:mute", sid, `${user.full_name} was asked to mute.`));
      view.item.removeButton.addEventListener("click", () => this.hostAction("meeting:remove", sid, `${user.full_name} was removed.`));
    }
    this.q("[data-tiles]").append(view.tile);
    this.q("[data-participants]").append(view.item.item);
    showState(view, entry.state);
    this.peers.set(sid, entry);
    this.count();
    return entry;
  }

  // The media path to someone broke. ICE restarts by itself (peer.js); their tile says
  // "Reconnecting…" meanwhile, and goes if nothing comes back: a network that vanished
  // without closing the socket is noticed by the server only at its next ping.
  connectionChanged(sid, connection) {
    const entry = this.peers.get(sid);
    if (!entry) return;
    if (connection === "connected") this.shapeVideo();
    entry.view.tile.dataset.connection = connection;
    showReconnecting(entry.view, connection === "disconnected" || connection === "failed");
    clearTimeout(entry.lostTimer);
    if (connection === "failed") {
      entry.lostTimer = setTimeout(() => {
        if (this.peers.get(sid) === entry && entry.peer.pc.connectionState !== "connected") {
          this.dropPeer(sid);
          this.status(`Lost the connection to ${entry.user.full_name}.`);
        }
      }, LOST_AFTER_MS);
    }
  }

  dropPeer(sid) {
    const entry = this.peers.get(sid);
    if (!entry) return null;
    clearTimeout(entry.lostTimer);
    entry.peer.close();
    entry.view.tile.remove();
    entry.view.item.item.remove();
    this.peers.delete(sid);
    this.count();
    return entry;
  }

  // Each other participant is one more encode of this tab's camera: from three others on,
  // every copy goes out smaller and slower (a screen keeps its size, for legible text).
  shapeVideo() {
    const others = this.peers.size;
    const sharing = Boolean(this.local.screen);
    const shape = others <= 2 ? { scale: 1, fps: 30 }
      : others === 3 ? { scale: sharing ? 1 : 1.5, fps: 24 }
      : { scale: sharing ? 1 : 2, fps: 15 };
    for (const { peer } of this.peers.values()) peer.shapeVideo(shape);
  }

  count() {
    this.shapeVideo();
    this.q("[data-count]").textContent = String(this.peers.size + (this.localView ? 1 : 0));
    this.q("[data-tiles]").dataset.size = String(this.peers.size + 1);
  }

  play(video, stream) {
    if (video.srcObject !== stream) video.srcObject = stream;
    video.play().catch(() => {
      // Sound before any click on this page (a rejoin after a reload): start muted and offer sound.
      video.muted = true;
      video.play().catch(() => {});
      this.offerSound();
    });
  }

  offerSound() {
    if (this.q("[data-sound]")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button--small";
    button.dataset.sound = "";
    button.textContent = "Turn on sound";
    button.addEventListener("click", () => {
      for (const { view } of this.peers.values()) { view.video.muted = false; view.video.play().catch(() => {}); }
      button.remove();
    });
    this.q(".call__controls").append(button);
  }

  // Sending

  outgoing() {
    return { audio: this.local.audio, video: this.local.screen || (this.flags.video ? this.local.video : null) };
  }

  async sendTracks() {
    const tracks = this.outgoing();
    await Promise.all([...this.peers.values()].flatMap(({ peer }) => [
      peer.replaceTrack("audio", tracks.audio),
      peer.replaceTrack("video", tracks.video),
    ]));
    this.shapeVideo();
  }

  sendState() {
    emit("meeting:state", { meeting_id: this.id, ...this.flags });
    this.showControls();
    if (this.localView) this.showLocal();
  }

  showControls() {
    const label = {
      audio: this.flags.audio ? "Mute microphone" : "Unmute microphone",
      video: this.flags.video ? "Turn camera off" : "Turn camera on",
      screen: this.flags.screen ? "Stop sharing" : "Share screen",
    };
    for (const button of this.root.querySelectorAll("[data-toggle]")) {
      const kind = button.dataset.toggle;
      button.textContent = label[kind];
      button.classList.toggle("button--off", kind !== "screen" && !this.flags[kind]);
    }
    const screen = this.q('[data-toggle="screen"]');
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) screen.hidden = true;
  }

  async toggle(kind) {
    if (kind === "audio") {
      if (!this.local.audio) {
        this.local.audio = await openTrack("audio", this.chosenDevices().audioinput);
        if (!this.local.audio) { this.status("No microphone could be opened."); return; }
        this.startMeter();
        await this.sendTracks();
        this.flags.audio = true;
      } else {
        this.flags.audio = !this.flags.audio;
      }
      this.local.audio.enabled = this.flags.audio;
    } else if (kind === "video") {
      if (this.flags.video) {
        // Off means off: the camera's light goes out and no frame leaves.
        this.flags.video = false;
        if (this.local.video) this.local.video.stop();
        this.local.video = null;
      } else {
        const track = await openTrack("video", this.chosenDevices().videoinput);
        if (!track) { this.status("No camera could be opened. Check that the browser may use it."); return; }
        this.local.video = track;
        this.flags.video = true;
      }
      await this.sendTracks();
    } else if (kind === "screen") {
      if (this.local.screen) { this.stopSharing(); return; }
      let stream;
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      } catch {
        this.status("Screen sharing was cancelled.");
        return;
      }
      this.local.screen = stream.getVideoTracks()[0];
      this.local.screen.addEventListener("ended", () => this.stopSharing());
      this.flags.screen = true;
      await this.sendTracks();
    }
    this.sendState();
  }

  async stopSharing() {
    if (!this.local.screen) return;
    this.local.screen.stop();
    this.local.screen = null;
    this.flags.screen = false;
    await this.sendTracks();
    this.sendState();
  }

  async hostAction(name, sid, done) {
    const reply = await emit(name, { meeting_id: this.id, sid });
    this.status(reply.error || done);
  }

  status(text) {
    this.q("[data-call-status]").textContent = text;
  }

  // Speaking indicators, and what tests read.
  async pollStats() {
    for (const entry of this.peers.values()) {
      try {
        entry.stats = await entry.peer.inbound();
      } catch {
        continue;
      }
      const audible = (!entry.state || entry.state.audio) && entry.stats.audioLevel > REMOTE_SPEAKING_LEVEL;
      showSpeaking(entry.view, audible);
    }
  }

  // Wiring

  wire() {
    const on = (selector, event, handler) => this.q(selector).addEventListener(event, handler);
    on("[data-join]", "click", () => this.join());
    on("[data-rejoin]", "click", () => {
      this.q("[data-over]").hidden = true;
      this.q("[data-prejoin]").hidden = false;
      this.q("[data-join]").disabled = false;
      this.devicesReady = this.openDevices();
    });
    on("[data-leave]", "click", () => this.leave());
    on("[data-copy-link]", "click", async () => {
      const input = this.q("#meeting-link");
      try {
        await navigator.clipboard.writeText(input.value);
        toast("Meeting link copied.");
      } catch {
        input.select();
        toast("Select the link and copy it.");
      }
    });
    on("[data-join-camera-off]", "change", () => this.showPreview());
    for (const select of this.root.querySelectorAll("[data-device]")) {
      select.addEventListener("change", () => this.changeDevice(select.dataset.device));
    }
    for (const button of this.root.querySelectorAll("[data-toggle]")) {
      button.addEventListener("click", () => this.toggle(button.dataset.toggle));
    }
    const end = this.q("[data-end]");
    if (end) end.addEventListener("click", async () => {
      const reply = await emit("meeting:end", { meeting_id: this.id });
      if (reply.error) this.status(reply.error);
    });

    const listen = (name, handler) => {
      const bound = (data) => { if (data && data.meeting_id === this.id) handler(data); };
      socket.on(name, bound);
      this.listeners.push([name, bound]);
    };
    listen("meeting:joined", ({ sid, user }) => {
      if (!this.joined || sid === this.sid) return;
      // Back after a lost connection, under a new tab id: their old tile goes.
      for (const [other, entry] of this.peers) {
        if (entry.user.id === user.id && entry.peer.pc.connectionState !== "connected") this.dropPeer(other);
      }
      this.addPeer(sid, user, null);
      this.status(`${user.full_name} joined.`);
    });
    listen("meeting:signal", async ({ from, description, candidate }) => {
      if (!this.joined) return;
      // A signal may overtake the news of its sender joining: meet them now, name them later.
      const entry = this.peers.get(from) || this.addPeer(from, { id: 0, full_name: "Someone", avatar_url: "" }, null);
      try {
        await entry.peer.receive({ description, candidate }, this.outgoing());
      } catch (error) {
        console.warn("meeting: signal failed", error);
      }
    });
    listen("meeting:state", ({ sid, audio, video, screen }) => {
      const entry = this.peers.get(sid);
      if (!entry) return;
      entry.state = { audio, video, screen };
      showState(entry.view, entry.state);
    });
    listen("meeting:left", ({ sid }) => {
      const entry = this.dropPeer(sid);
      if (entry) this.status(`${entry.user.full_name} left.`);
    });
    listen("meeting:mute-request", ({ by }) => {
      if (!this.joined) return;
      if (this.flags.audio && this.local.audio) {
        this.flags.audio = false;
        this.local.audio.enabled = false;
        this.sendState();
      }
      // Said once, next to the controls (a toast as well would be read out twice).
      this.status(`${by} asked you to mute. Your microphone is off.`);
    });
    // `by` is null when nobody chose it: they left the room or conversation, or a block.
    listen("meeting:removed", ({ by }) => this.leave(
      by ? `${by} removed you from the meeting.` : "You are no longer in this meeting's room or conversation.",
      true,
    ));
    listen("meeting:ended", () => this.leave(this.isHost ? "You ended the meeting for everyone." : "The host ended the meeting.", true));

    // A new connection is a new tab id, and the server let the old one go: join again.
    const reconnect = () => {
      if (!this.joined) return;
      for (const sid of [...this.peers.keys()]) this.dropPeer(sid);
      if (this.localView) { this.localView.tile.remove(); this.localView.item.item.remove(); this.localView = null; }
      for (const timer of this.timers) clearInterval(timer);
      this.timers = [];
      this.startMeter();
      this.enter().then((reply) => { if (reply.error) this.leave(reply.error); });
    };
    socket.on("connect", reconnect);
    this.listeners.push(["connect", reconnect]);
    const lost = () => { if (this.joined) this.status("Connection lost; reconnecting…"); };
    socket.on("disconnect", lost);
    this.listeners.push(["disconnect", lost]);
    // Back on a network: connections that broke restart ICE now rather than at their next
    // check. One still being set up is left alone (a restart would only race its offer).
    window.addEventListener("online", () => {
      for (const { peer } of this.peers.values()) {
        if (["disconnected", "failed"].includes(peer.pc.iceConnectionState)) peer.restartIce();
      }
    });
  }

  async changeDevice(kind) {
    const id = this.chosenDevices()[kind];
    if (!this.joined) { await this.openDevices(); return; }
    const media = kind === "videoinput" ? "video" : "audio";
    if (media === "video" && !this.flags.video) return;  // used when the camera comes on
    const track = await openTrack(media, id);
    if (!track) { this.status("That device could not be opened."); return; }
    const old = this.local[media];
    this.local[media] = track;
    if (media === "audio") { track.enabled = this.flags.audio; this.startMeter(); }
    await this.sendTracks();
    if (old) old.stop();
    if (this.localView) this.showLocal();
  }
}

export function start() {
  const root = document.querySelector("[data-meeting]");
  if (current && current.root === root) return;
  if (current) { current.destroy(); current = null; }
  if (!root || !socket) return;
  current = new Meeting(root);
  window.qosyl = Object.assign(window.qosyl || {}, { meeting: current });
  current.prepare();
}

if (socket) {
  // Pages come and go by HTMX (boosted links): a meeting starts with its page (main.js) and
  // ends when the page is swapped away.
  document.body.addEventListener("htmx:afterSettle", () => {
    if (current && !current.root.isConnected) { current.destroy(); current = null; }
  });
  window.addEventListener("pagehide", () => { if (current && current.joined) current.destroy(true); });
}
