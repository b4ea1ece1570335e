// A short message in the page's live region (#toasts in base.html), gone after six seconds
// unless told otherwise. It may carry one link ({href, text}), built as a plain link:
// toast("Ann started a meeting.", "info", {link: {href, text: "Join"}, duration: 20000}).
// Returns the toast, so that its caller may take it away sooner.
export function toast(message, level = "info", { link = null, duration = 6000 } = {}) {
  const region = document.getElementById("toasts");
  if (!region || !message) return null;
  const item = document.createElement("p");
  item.className = `toast toast--${level}`;
  item.textContent = message;
  if (link) {
    const anchor = document.createElement("a");
    anchor.className = "toast__link";
    anchor.href = link.href;
    anchor.textContent = link.text;
    // A full load: the pages toasts lead to (a meeting) start their own scripts on load.
    anchor.setAttribute("hx-boost", "false");
    item.append(" ", anchor);
  }
  region.append(item);
  setTimeout(() => item.remove(), duration);
  return item;
}
