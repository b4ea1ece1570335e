// A short message in the page's live region (#toasts in base.html), gone after six seconds.
export function toast(message, level = "info") {
  const region = document.getElementById("toasts");
  if (!region || !message) return;
  const item = document.createElement("p");
  item.className = `toast toast--${level}`;
  item.textContent = message;
  region.append(item);
  setTimeout(() => item.remove(), 6000);
}
