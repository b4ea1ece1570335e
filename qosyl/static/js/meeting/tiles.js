// The call's markup: a tile per participant (video, or their avatar when the camera is
// off; name; microphone state; speaking), and their line in the participant list. Names
// come from the server's user records and are set as text, never as HTML.

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => part[0].toUpperCase()).join("");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function makeTile({ name, avatarUrl, local }) {
  const tile = element("li", "tile");
  tile.setAttribute("aria-label", local ? `${name} (you)` : name);
  const video = element("video", "tile__video");
  video.autoplay = true;
  video.playsInline = true;
  video.muted = Boolean(local);  // never play your own microphone back to you
  if (local) video.classList.add("tile__video--mirror");
  const face = element("div", "tile__face");
  if (avatarUrl) {
    const img = element("img", "tile__avatar");
    img.src = avatarUrl;
    img.alt = "";
    face.append(img);
  } else {
    face.append(element("span", "tile__initials", initials(name)));
  }
  const label = element("p", "tile__label");
  label.append(element("span", "tile__name", local ? `${name} (you)` : name));
  const micOff = element("span", "tile__badge tile__badge--mic", "Microphone off");
  const cameraOff = element("span", "tile__badge", "Camera off");
  const presenting = element("span", "tile__badge tile__badge--screen", "Presenting");
  const speaking = element("span", "tile__badge tile__badge--speaking", "Speaking");
  const reconnecting = element("span", "tile__badge", "Reconnecting…");
  micOff.hidden = cameraOff.hidden = presenting.hidden = speaking.hidden = reconnecting.hidden = true;
  label.append(micOff, cameraOff, presenting, speaking, reconnecting);
  tile.append(video, face, label);
  return { tile, video, face, micOff, cameraOff, presenting, speaking, reconnecting };
}

// Show what a participant sends: {audio, video, screen}; unknown (null) shows as on.
export function showState(view, state) {
  const audio = state ? state.audio : true;
  const video = state ? state.video || state.screen : true;
  view.micOff.hidden = audio;
  view.cameraOff.hidden = video;
  view.presenting.hidden = !(state && state.screen);
  view.tile.classList.toggle("tile--no-video", !video);
  view.video.hidden = !video;
  if (view.item) view.item.mic.textContent = audio ? "" : " · microphone off";
}

export function showReconnecting(view, reconnecting) {
  view.reconnecting.hidden = !reconnecting;
}

export function showSpeaking(view, speaking) {
  view.speaking.hidden = !speaking;
  view.tile.classList.toggle("tile--speaking", speaking);
}

// A line of the participant list; the host gets "Ask … to mute" and "Remove …" for others.
export function makeListItem({ name, isHost, local, hostControls }) {
  const item = element("li", "participants__item");
  const who = element("span", "participants__name", local ? `${name} (you)` : name);
  if (isHost) who.append(" ", element("span", "pill", "host"));
  const mic = element("span", "participants__mic", "");
  who.append(mic);
  item.append(who);
  let muteButton = null;
  let removeButton = null;
  if (hostControls) {
    const actions = element("span", "participants__actions");
    muteButton = element("button", "button button--small button--quiet", "Ask to mute");
    muteButton.type = "button";
    muteButton.setAttribute("aria-label", `Ask ${name} to mute`);
    removeButton = element("button", "button button--small button--quiet", "Remove");
    removeButton.type = "button";
    removeButton.setAttribute("aria-label", `Remove ${name} from the meeting`);
    actions.append(muteButton, removeButton);
    item.append(actions);
  }
  return { item, mic, muteButton, removeButton };
}
