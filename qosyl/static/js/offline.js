// Offline, with the service worker (templates/sw.js):
// - a kept copy of a page (<body data-offline-copy>) says so in a banner;
// - the offline page and kept copies reload themselves once the connection is back;
// - signing out drops the kept pages at once (the worker also drops them when it
//   next sees a signed-out page).
(() => {
  "use strict";
  const body = document.body;
  const isCopy = body.hasAttribute("data-offline-copy");
  const isOfflinePage = body.classList.contains("offline");

  if (isCopy) {
    const banner = document.createElement("p");
    banner.className = "offline-banner";
    banner.setAttribute("role", "status");
    banner.textContent = "You are offline: this is a saved copy. It updates when you are back online.";
    body.prepend(banner);
    // Nothing on a copy can reach the server; keep htmx from trying.
    body.setAttribute("hx-disable", "");
  }

  if (isCopy || isOfflinePage) {
    let reloading = false;
    const reloadIfOnline = () => {
      if (reloading) return;
      fetch("/healthz", { cache: "no-store" })
        .then((response) => {
          if (response.ok && !reloading) {
            reloading = true;
            window.location.reload();
          }
        })
        .catch(() => {});
    };
    window.addEventListener("online", reloadIfOnline);
    setInterval(reloadIfOnline, 3000);
  }

  const dropPages = () => {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "drop-pages" });
    }
    if (window.caches) {
      caches.keys().then((keys) =>
        Promise.all(keys.filter((key) => key.startsWith("qosyl-pages-")).map((key) => caches.delete(key)))
      ).catch(() => {});
    }
  };
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && new URL(form.action, location.href).pathname === "/logout") {
      dropPages();
    }
  }, true);
})();
