// A chat box on the page (templates/components/_chat.html for rooms,
// _conversation_chat.html for conversations) and the parts of it the chat modules share.
export const SELECTOR = "[data-chat-room], [data-chat-conversation]";
const KINDS = { room: "data-chat-room", conversation: "data-chat-conversation" };

export const boxes = () => document.querySelectorAll(SELECTOR);
export const boxFor = (kind, id) => document.querySelector(`[${KINDS[kind]}="${id}"]`);
export const kindOf = (box) => (box.hasAttribute(KINDS.room) ? "room" : "conversation");
export const idOf = (box) => Number(box.getAttribute(KINDS[kindOf(box)]));
export const list = (box) => box.querySelector(".chat__messages");
export const messageIn = (box, id) => list(box).querySelector(`.message[data-message-id="${id}"]`);
const scroller = (box) => box.querySelector(".chat__scroll");

// The box's own status line (role="status"), never another box's.
export const status = (box, text) => { box.querySelector("[data-chat-status]").textContent = text; };

export function lastId(box) {
  let last = 0;
  for (const item of list(box).querySelectorAll(".message[data-message-id]")) {
    last = Math.max(last, Number(item.dataset.messageId));
  }
  return last;
}

export function nearBottom(box) {
  const el = scroller(box);
  return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
}

export function scrollToEnd(box) {
  const el = scroller(box);
  el.scrollTop = el.scrollHeight;
}

// The loader of older messages (top of the list) asks for them when it scrolls into the
// chat's own view. Watched only once the box has scrolled to its end: before, the list
// stands at its top, and history nobody asked for was fetched and pushed the messages
// about after the first paint.
export function watchOlder(box) {
  const older = box.querySelector(".chat__older");
  if (!older || older.dataset.watched) return;
  older.dataset.watched = "1";
  const observer = new IntersectionObserver((entries) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    observer.disconnect();
    htmx.trigger(older, "chat:older");
  }, { root: scroller(box) });
  observer.observe(older);
}

// Writing a box disappears with it (a composer removed when the chat closes to this viewer).
export function closeComposer(box, text) {
  status(box, text);
  const composer = box.querySelector("[data-chat-composer]");
  if (composer) composer.remove();
}

export const csrfToken = () => JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
