// Page glue that is not about live updates: toasts, menus, forms, the service worker.
import { toast } from "./toast.js";

// Errors HTMX does not swap: the server names them in a header.
document.addEventListener("htmx:responseError", (event) => {
  const message = event.detail.xhr.getResponseHeader("X-Qosyl-Message");
  toast(message || "Something went wrong. Try again.", "error");
});
document.addEventListener("htmx:sendError", (event) => {
  const { boosted, requestConfig, pathInfo } = event.detail;
  if (boosted && requestConfig.verb === "get") {
    // A boosted link is a request, not a navigation: navigate for real so the
    // service worker can answer with the offline page.
    window.location.assign(pathInfo.requestPath);
    return;
  }
  toast("You seem to be offline. Try again when the connection is back.", "error");
});

// After a form comes back with errors, put the keyboard on the first field to fix.
document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.xhr && event.detail.xhr.status === 422) {
    const invalid = document.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.focus();
  }
});

// Disclosures (menus, reply boxes, "are you sure?") tell assistive technology their state,
// and put the keyboard on their first field when they open.
document.addEventListener("toggle", (event) => {
  const details = event.target;
  if (!(details instanceof HTMLDetailsElement)) return;
  const summary = details.querySelector(":scope > summary[aria-expanded]");
  if (summary) summary.setAttribute("aria-expanded", String(details.open));
  if (details.open && details.classList.contains("disclosure")) {
    const first = details.querySelector("textarea, input:not([type=hidden])");
    if (first) first.focus();
  }
}, true);

// Menus close on a click elsewhere or on Escape.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});

// A chosen image shows as a small preview under its file input, before anything is sent.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
  const holder = input.closest(".field") || input.parentElement;
  let preview = holder.querySelector(":scope > img.file-preview");
  if (preview) URL.revokeObjectURL(preview.src);
  const file = input.files && input.files[0];
  if (!file || !file.type.startsWith("image/")) {
    if (preview) preview.remove();
    return;
  }
  if (!preview) {
    preview = document.createElement("img");
    preview.className = "file-preview";
    input.after(preview);
  }
  preview.alt = `Preview of ${file.name}`;
  preview.src = URL.createObjectURL(file);
});
// A preview goes when its input no longer holds a file: after a reset, or after a send
// that empties the input from script (which fires no change event).
const dropStalePreviews = (form) => {
  if (!(form instanceof HTMLFormElement)) return;
  for (const preview of form.querySelectorAll("img.file-preview")) {
    const input = preview.previousElementSibling;
    if (input instanceof HTMLInputElement && input.files && input.files.length) continue;
    URL.revokeObjectURL(preview.src);
    preview.remove();
  }
};
for (const type of ["reset", "submit"]) {
  document.addEventListener(type, (event) => setTimeout(() => dropStalePreviews(event.target)), true);
}

if ("serviceWorker" in navigator) {
  // Once the page has loaded: on a first visit the worker's precaching would otherwise
  // compete with the page for the network and the main thread.
  const register = () => navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
    console.warn("service worker not registered", error);
  });
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
}
