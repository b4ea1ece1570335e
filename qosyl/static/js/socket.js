// The live channel's one Socket.IO connection per tab of a signed-in user, shared by every
// module that listens or emits (realtime.js, live.js, presence.js, chat/). Imported, never
// loaded by a <script> tag: a module runs once per URL, and so the socket is made once.
// `io` is the socket.io-client vendor global. Signed out: no socket.
export const me = document.body.dataset.userId || null;
// WebSocket first: a tab that navigates away mid-handshake closes its WebSocket and the
// server lets the tab go at once, where a long-polling session would linger until its
// ping timeout and count against SOCKETS_PER_ACCOUNT. Polling stays as the fallback for
// networks that block WebSockets.
export const socket = me && typeof io !== "undefined"
  ? io({ transports: ["websocket", "polling"], tryAllTransports: true })
  : null;

// The browser tests wait on the connection and on what live.js was let watch; no module
// reads this.
export const observed = socket ? (window.qosyl = { socket }) : {};
