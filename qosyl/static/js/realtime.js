// The live channel: one Socket.IO connection per tab of a signed-in user.
// "html" swaps the same markup for everyone; "trigger" fires an event on <body>
// so regions refetch their own view; "notification" also shows a toast.
(() => {
  "use strict";
  const userId = document.body.dataset.userId;
  if (!userId || typeof io === "undefined") return;

  const socket = io();
  window.qosyl = Object.assign(window.qosyl || {}, { socket });

  socket.on("html", ({ target, html, swap }) => {
    const element = document.querySelector(target);
    if (element) htmx.swap(element, html, { swapStyle: swap || "beforeend" });
  });

  socket.on("trigger", ({ name }) => {
    if (name === "session-revoked") {
      // Another tab changed the password or deleted the account: reload if we are out.
      fetch("/session", { credentials: "same-origin" })
        .then((response) => response.json())
        .then((session) => { if (String(session.user_id) !== userId) window.location.reload(); });
      return;
    }
    htmx.trigger(document.body, name);
  });

  socket.on("notification", ({ text }) => {
    htmx.trigger(document.body, "notifications-changed");
    window.qosyl.toast(text);
  });

  socket.on("connect", () => document.body.classList.remove("is-offline"));
  socket.on("disconnect", () => document.body.classList.add("is-offline"));
})();
