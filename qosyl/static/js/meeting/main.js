// The entry point of video meetings (base.html): the call's code (call.js, with media.js,
// peer.js and tiles.js) is loaded when a meeting page is first shown, not on every page.
import { socket } from "../socket.js";

let call = null;  // the call module's promise, once a meeting page has been shown

function start() {
  if (!call && !document.querySelector("[data-meeting]")) return;
  call ??= import("./call.js");
  call.then((module) => module.start());
}

if (socket) {
  document.addEventListener("DOMContentLoaded", start);
  if (document.readyState !== "loading") start();
  // Pages come and go by HTMX (boosted links).
  document.body.addEventListener("htmx:load", start);
}
