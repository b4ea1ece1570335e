// Messages in a box: one copy of each, in id order, grouped by author, in local time.
import { list } from "./box.js";
import { messageIn } from "./box.js";
import { nearBottom } from "./box.js";
import { scrollToEnd } from "./box.js";
import { applyControls } from "./menu.js";

function localTime(root) {
  for (const time of root.querySelectorAll("time[data-local-time]")) {
    const when = new Date(time.dateTime);
    const today = new Date().toDateString() === when.toDateString();
    time.textContent = today
      ? when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : when.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }
}

// Consecutive messages by one person within a few minutes sit under one name and
// picture, as in Slack or Zulip; the name stays there for screen readers.
const GROUP_WITHIN_S = 5 * 60;
export function regroup(box) {
  let previous = null;
  for (const item of list(box).querySelectorAll(".message[data-message-id]")) {
    const continued = previous !== null
      && previous.dataset.authorId === item.dataset.authorId
      && Number(item.dataset.sent) - Number(previous.dataset.sent) < GROUP_WITHIN_S;
    item.classList.toggle("message--continued", continued);
    previous = item;
  }
}

export function prepare(root, box) {
  for (const item of root.querySelectorAll ? root.querySelectorAll(".message") : []) {
    applyControls(item, box);
  }
  if (root.classList && root.classList.contains("message")) applyControls(root, box);
  localTime(root);
}

// Server-rendered markup (a message, a refused composer) as a fragment, never run.
export function parse(html) {
  const holder = document.createElement("template");
  holder.innerHTML = html.trim();
  return holder.content;
}

// Put a message in its place by id; a second copy (broadcast and reply both) is dropped.
export function insertMessage(box, html, { own = false } = {}) {
  const item = parse(html).firstElementChild;
  if (!item) return;
  const id = Number(item.dataset.messageId);
  if (messageIn(box, id)) return;
  const follow = own || nearBottom(box);
  let after = null;
  for (const other of list(box).querySelectorAll(".message[data-message-id]")) {
    if (Number(other.dataset.messageId) < id) after = other;
  }
  if (after) after.after(item);
  else {
    const older = list(box).querySelector(".chat__older");
    if (older) older.after(item); else list(box).prepend(item);
  }
  htmx.process(item);
  prepare(item, box);
  regroup(box);
  if (follow) scrollToEnd(box);
}

// An edited message takes its old copy's place, unless this tab is editing it right now.
export function replaceMessage(box, id, html) {
  const old = messageIn(box, id);
  if (!old || old.classList.contains("message--editing")) return;
  const item = parse(html).firstElementChild;
  old.replaceWith(item);
  htmx.process(item);
  prepare(item, box);
  regroup(box);
}

export function removeMessage(box, item) {
  if (!item) return;
  item.remove();
  regroup(box);
}
