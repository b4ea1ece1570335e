// One RTCPeerConnection to one other participant, negotiated with the "perfect
// negotiation" pattern: either side may (re)negotiate at any time; when both offer at
// once, the polite side rolls its own offer back and the impolite side ignores the other's.
// Which side is polite is decided by comparing the two tabs' ids, so both agree.

export class Peer {
  // `send(message)` relays {description} or {candidate} to the other tab; `onTrack(stream)`
  // shows what arrives; `onState(state)` reports the connection's state.
  constructor({ sid, polite, config, send, onTrack, onState }) {
    this.sid = sid;
    this.polite = polite;
    this.send = send;
    this.pc = new RTCPeerConnection(config);
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    this.senders = {};  // kind -> RTCRtpSender carrying our track of that kind
    this.stream = new MediaStream();
    this.restartTimer = null;

    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await this.pc.setLocalDescription();
        this.sendDescription();
      } catch (error) {
        console.warn("meeting: offer failed", error);
      } finally {
        this.makingOffer = false;
      }
    };
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) this.send({ candidate: candidate.toJSON() });
    };
    this.pc.ontrack = ({ track }) => {
      this.stream.addTrack(track);
      track.onunmute = () => onTrack(this.stream);
      onTrack(this.stream);
    };
    this.pc.onconnectionstatechange = () => onState(this.pc.connectionState);
    // A network change (Wi-Fi to mobile data, a sleeping laptop): ICE restarts. "failed"
    // is final without a restart; "disconnected" often heals alone, so wait a little first.
    this.pc.oniceconnectionstatechange = () => {
      const state = this.pc.iceConnectionState;
      clearTimeout(this.restartTimer);
      if (state === "failed") this.restartIce();
      else if (state === "disconnected") this.restartTimer = setTimeout(() => this.restartIce(), 3000);
    };
  }

  sendDescription() {
    const { type, sdp } = this.pc.localDescription;
    this.send({ description: { type, sdp } });
  }

  restartIce() {
    if (this.pc.connectionState === "closed") return;
    this.pc.restartIce();  // fires negotiationneeded with an ICE-restart offer
  }

  // The side that starts the call makes one audio and one video transceiver; the other side
  // adopts those the offer brings (adopt). Either way each kind has one sender, whose track
  // is swapped in place (camera on and off, screen share) with no new negotiation.
  start(tracks) {
    for (const kind of ["audio", "video"]) {
      const transceiver = this.pc.addTransceiver(tracks[kind] || kind, { direction: "sendrecv" });
      this.senders[kind] = transceiver.sender;
    }
  }

  adopt(tracks) {
    for (const transceiver of this.pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      if (this.senders[kind] || transceiver.stopped) continue;
      transceiver.direction = "sendrecv";
      this.senders[kind] = transceiver.sender;
      transceiver.sender.replaceTrack(tracks[kind] || null);
    }
  }

  // How much smaller and slower than captured this connection's video goes out: in a
  // full mesh every other participant costs one more encode, so it shrinks as they grow.
  async shapeVideo({ scale, fps }) {
    const sender = this.senders.video;
    if (!sender || this.pc.connectionState === "closed") return;
    const parameters = sender.getParameters();
    const encoding = parameters.encodings && parameters.encodings[0];
    if (!encoding) return;  // not negotiated yet: shaped again once connected
    if (encoding.scaleResolutionDownBy === scale && encoding.maxFramerate === fps) return;
    encoding.scaleResolutionDownBy = scale;
    encoding.maxFramerate = fps;
    try {
      await sender.setParameters(parameters);
    } catch (error) {
      console.warn("meeting: could not shape video", error);
    }
  }

  async replaceTrack(kind, track) {
    const sender = this.senders[kind];
    if (sender) await sender.replaceTrack(track || null);
  }

  async receive({ description, candidate }, tracks) {
    const pc = this.pc;
    if (description) {
      const readyForOffer =
        !this.makingOffer && (pc.signalingState === "stable" || this.settingRemoteAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      this.settingRemoteAnswer = description.type === "answer";
      await pc.setRemoteDescription(description);  // a polite side's own offer rolls back
      this.settingRemoteAnswer = false;
      if (description.type === "offer") {
        this.adopt(tracks);
        await pc.setLocalDescription();
        this.sendDescription();
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (error) {
        if (!this.ignoreOffer) console.warn("meeting: candidate refused", error);
      }
    }
  }

  // What the browser decoded from this participant, for the speaking indicator and tests.
  async inbound() {
    const found = { audioLevel: 0, framesDecoded: 0, framesPerSecond: 0, width: 0, relayed: false };
    const stats = await this.pc.getStats();
    stats.forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "video") {
        found.framesDecoded += report.framesDecoded || 0;
        found.framesPerSecond = report.framesPerSecond || 0;
        found.width = report.frameWidth || 0;
      } else if (report.type === "inbound-rtp" && report.kind === "audio") {
        found.audioLevel = report.audioLevel || 0;
      } else if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") {
        const local = stats.get(report.localCandidateId);
        if (local && local.candidateType === "relay") found.relayed = true;
      }
    });
    return found;
  }

  close() {
    clearTimeout(this.restartTimer);
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.close();
  }
}
