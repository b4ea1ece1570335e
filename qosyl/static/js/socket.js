// The live channel's one Socket.IO connection per tab of a signed-in user, shared by every
// module that listens or emits (realtime.js, live.js, presence.js, chat/). Imported, never
// loaded by a <script> tag: a module runs once per URL, and so the socket is made once.
// `io` is the socket.io-client vendor global. Signed out: no socket.
export const me = document.body.dataset.userId || null;
export const socket = me && typeof io !== "undefined" ? io() : null;

// The browser tests wait on the connection and on what live.js was let watch; no module
// reads this.
export const observed = socket ? (window.qosyl = { socket }) : {};
