// Conversations: report what the viewer has read, show who has seen the viewer's latest
// message, who is typing, and keep a group's header and member names current.
import { me } from "../socket.js";
import { boxes } from "./box.js";
import { boxFor } from "./box.js";
import { closeComposer } from "./box.js";
import { csrfToken } from "./box.js";
import { idOf } from "./box.js";
import { kindOf } from "./box.js";
import { lastId } from "./box.js";
import { list } from "./box.js";
import { insertMessage } from "./render.js";

export function markRead(box) {
  if (document.visibilityState !== "visible") return;
  const last = lastId(box);
  if (!last || last <= Number(box.dataset.reportedRead || 0)) return;
  box.dataset.reportedRead = String(last);
  const data = new FormData();
  data.set("up_to_id", String(last));
  fetch(box.dataset.readUrl, {
    method: "POST",
    body: data,
    headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
    credentials: "same-origin",
  }).catch(() => { box.dataset.reportedRead = "0"; });
}

// Under the viewer's latest message: "Seen" (one-to-one) or "Seen by Ana, Bo" (groups).
export function showSeen(box) {
  const line = box.querySelector("[data-chat-seen]");
  if (!line) return;
  const mine = [...list(box).querySelectorAll(`.message[data-author-id="${me}"]`)];
  const latest = mine.length ? Number(mine[mine.length - 1].dataset.messageId) : 0;
  const positions = JSON.parse(box.dataset.readPositions || "{}");
  const names = JSON.parse(box.dataset.memberNames || "{}");
  const seenBy = Object.keys(positions).filter((id) => latest && positions[id] >= latest);
  if (!seenBy.length) line.textContent = "";
  else if (box.dataset.group === "true") line.textContent = `Seen by ${seenBy.map((id) => names[id]).join(", ")}`;
  else line.textContent = "Seen";
}

// Typing: at most one event a second while writing; "Ana is typing…" for a few seconds.
const TYPING_EVERY_MS = 1000;
const TYPING_SHOWN_MS = 4000;
const typists = new Map(); // box -> Map(user id -> {name, timer})
let lastTypingSent = 0;

function showTyping(box) {
  const line = box.querySelector("[data-chat-typing]");
  if (!line) return;
  const names = [...(typists.get(box) || new Map()).values()].map((t) => t.name);
  if (!names.length) line.textContent = "";
  else if (names.length === 1) line.textContent = `${names[0]} is typing…`;
  else line.textContent = `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are typing…`;
}

function stopTyping(box, userId) {
  const people = typists.get(box);
  const typist = people && people.get(String(userId));
  if (!typist) return;
  clearTimeout(typist.timer);
  people.delete(String(userId));
  showTyping(box);
}

// Groups: someone joined, left or was removed, or the group was renamed. The page's
// header and the names behind "Seen by" are fetched again; the chat itself stays.
async function refreshGroup(box) {
  const response = await fetch(window.location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector(`[data-chat-conversation="${idOf(box)}"]`);
  const head = page.querySelector(".room-head");
  if (fresh) {
    box.dataset.memberNames = fresh.dataset.memberNames;
    const positions = JSON.parse(fresh.dataset.readPositions || "{}");
    const known = JSON.parse(box.dataset.readPositions || "{}");
    for (const id of Object.keys(positions)) positions[id] = Math.max(positions[id], known[id] || 0);
    box.dataset.readPositions = JSON.stringify(positions);
    showSeen(box);
  }
  const current = document.querySelector(".room-head");
  if (head && current) {
    current.replaceWith(head);
    htmx.process(head);
  }
}

export function listen(socket) {
  document.addEventListener("input", (event) => {
    const box = event.target.closest && event.target.closest("[data-chat-conversation]");
    if (!box || event.target.tagName !== "TEXTAREA" || !socket.connected) return;
    const now = Date.now();
    if (now - lastTypingSent < TYPING_EVERY_MS) return;
    lastTypingSent = now;
    socket.emit("conversation:typing", { conversation_id: idOf(box) });
  });

  socket.on("conversation:typing", ({ conversation_id, user_id, name }) => {
    const box = boxFor("conversation", conversation_id);
    if (!box || String(user_id) === me) return;
    if (!typists.has(box)) typists.set(box, new Map());
    const people = typists.get(box);
    const previous = people.get(String(user_id));
    if (previous) clearTimeout(previous.timer);
    people.set(String(user_id), { name, timer: setTimeout(() => stopTyping(box, user_id), TYPING_SHOWN_MS) });
    showTyping(box);
  });

  socket.on("conversation:message", ({ conversation_id, html, author_id }) => {
    const box = boxFor("conversation", conversation_id);
    if (!box) return;
    stopTyping(box, author_id);
    insertMessage(box, html);
    markRead(box);
    showSeen(box);
  });
  socket.on("conversation:read", ({ conversation_id, reader_id, up_to_id }) => {
    const box = boxFor("conversation", conversation_id);
    if (!box || String(reader_id) === me) return;
    const positions = JSON.parse(box.dataset.readPositions || "{}");
    positions[reader_id] = Math.max(positions[reader_id] || 0, up_to_id);
    box.dataset.readPositions = JSON.stringify(positions);
    showSeen(box);
  });
  for (const event of ["conversation:members", "conversation:renamed"]) {
    socket.on(event, ({ conversation_id }) => {
      const box = boxFor("conversation", conversation_id);
      if (box) refreshGroup(box);
    });
  }
  socket.on("conversation:removed", ({ conversation_id }) => {
    const box = boxFor("conversation", conversation_id);
    if (box) closeComposer(box, "You were removed from this group.");
  });

  document.addEventListener("visibilitychange", () => {
    for (const box of boxes()) if (kindOf(box) === "conversation") markRead(box);
  });
}
