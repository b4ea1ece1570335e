// The live channel's general pushes, on the one connection socket.js makes per tab.
// "html" swaps the same markup for everyone; "trigger" fires an event on <body>
// so regions refetch their own view; "notification" also shows a toast.
import { me as userId } from "./socket.js";
import { socket } from "./socket.js";
import { toast } from "./toast.js";

function listen() {
  socket.on("html", ({ target, html, swap }) => {
    const element = document.querySelector(target);
    if (element) htmx.swap(element, html, { swapStyle: swap || "beforeend" });
  });

  // This tab is leaving the page (signing out, deleting the account, any navigation): the
  // page it asked for comes next, and a reload now would replace it.
  let leaving = false;
  window.addEventListener("beforeunload", () => { leaving = true; });
  window.addEventListener("pageshow", () => { leaving = false; });

  // Signed out elsewhere (sign-out, a password change, a deleted account): the page
  // reloads, which shows the sign-in page. Still signed in: false.
  const reloadIfSignedOut = () =>
    fetch("/session", { credentials: "same-origin" })
      .then((response) => response.json())
      .then((session) => {
        if (String(session.user_id) === userId) return false;
        if (!leaving) window.location.reload();
        return true;
      });

  socket.on("trigger", ({ name }) => htmx.trigger(document.body, name));

  socket.on("notification", ({ text }) => {
    htmx.trigger(document.body, "notifications-changed");
    toast(text);
  });

  // The server's process lost Redis for a while (qosyl/live/queue.py): pushes of other
  // processes were missed, so the badges and lists that listen refetch.
  socket.on("live:resync", () => {
    for (const name of ["notifications-changed", "messages-changed", "relations-changed"]) {
      htmx.trigger(document.body, name);
    }
  });

  socket.on("connect", () => document.body.classList.remove("is-offline"));
  socket.on("disconnect", (reason) => {
    document.body.classList.add("is-offline");
    // The server closed this tab: its sign-in ended, or the server restarts. Socket.IO does
    // not reconnect by itself after that; reconnect only if still signed in.
    if (reason === "io server disconnect") {
      reloadIfSignedOut().then((out) => { if (!out) socket.connect(); }).catch(() => {});
    }
  });
  // Refused: signed out (reload), or over a cap (say why; the tab works without live updates).
  socket.on("connect_error", (error) => {
    if (socket.active) return; // a network failure: Socket.IO tries again by itself
    if (error.message === "unauthorized") reloadIfSignedOut().catch(() => {});
    else toast(error.message, "error");
  });
}

if (socket) listen();
