// Presence (MSG-3): tell the server when this tab is away (hidden, or no input for five
// minutes) and when it is back, and keep every presence dot on the page up to date.
import { socket } from "./socket.js";

function listen() {
  const IDLE_MS = 5 * 60 * 1000;
  // Redis forgets tabs it has not heard from in ten minutes (qosyl/live/presence.py).
  const KEEPALIVE_MS = 4 * 60 * 1000;
  const STATES = ["online", "away", "offline"];

  let lastInput = Date.now();
  // What the server believes of this connection; a new connection starts online.
  let reported = false;

  const isAway = () => document.visibilityState === "hidden" || Date.now() - lastInput >= IDLE_MS;

  function report(force = false) {
    const away = isAway();
    if (!socket.connected || (away === reported && !force)) return;
    reported = away;
    socket.emit("presence:away", { away });
  }

  socket.on("connect", () => { reported = false; report(); });
  // Redis may have restarted empty (qosyl/live/queue.py): say this tab's state again.
  socket.on("live:resync", () => report(true));
  if (socket.connected) report();

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") lastInput = Date.now();
    report();
  });
  // Input only moves a timestamp; an event goes out when away or back actually changes.
  for (const type of ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "scroll"]) {
    window.addEventListener(type, () => {
      lastInput = Date.now();
      if (reported) report();
    }, { capture: true, passive: true });
  }
  setInterval(() => report(), 15 * 1000);
  setInterval(() => report(true), KEEPALIVE_MS);

  socket.on("presence", ({ user_id, state }) => {
    if (!STATES.includes(state) || !Number.isInteger(user_id)) return;
    for (const dot of document.querySelectorAll(`[data-presence-user="${user_id}"]`)) {
      dot.dataset.presence = state;
      const label = dot.querySelector(".visually-hidden");
      if (label) label.textContent = state;
    }
  });
}

if (socket) listen();
