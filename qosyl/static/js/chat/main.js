// Live chat for rooms and private conversations alike: subscribe each chat box on the page,
// catch up after a drop, keep one copy of each message in id order, show the controls the
// viewer may use (the server checks every action again), and in conversations report what
// the viewer has read and show who has seen the viewer's latest message.
// The entry point (base.html); the other modules of this folder are only imported.
import { socket } from "../socket.js";
import { boxFor } from "./box.js";
import { boxes } from "./box.js";
import { closeComposer } from "./box.js";
import { idOf } from "./box.js";
import { kindOf } from "./box.js";
import { lastId } from "./box.js";
import { messageIn } from "./box.js";
import { scrollToEnd } from "./box.js";
import { SELECTOR } from "./box.js";
import { status } from "./box.js";
import { watchOlder } from "./box.js";
import * as conversation from "./conversation.js";
import * as outbox from "./outbox.js";
import { insertMessage } from "./render.js";
import { prepare } from "./render.js";
import { regroup } from "./render.js";
import { removeMessage } from "./render.js";
import { replaceMessage } from "./render.js";

// The last id a box held before its connection (re)opened. Socket.IO hands a tab the events that
// came before "connect" first, and a conversation's messages come through the user's room from
// the moment a connection opens: one heard that early would hide what was missed before it.
function markResumePoint(box) {
  box.dataset.resumeAfter = String(lastId(box));
}

function resumePoint(box) {
  const mark = box.dataset.resumeAfter;
  delete box.dataset.resumeAfter;
  return mark === undefined ? lastId(box) : Number(mark);
}

// `since` (seconds since 1970): after a Redis outage, catch up from the last message held from
// before then, even if later ones came meanwhile (live:resync, qosyl/live/queue.py).
function subscribe(box, since) {
  const kind = kindOf(box);
  const request = { [`${kind}_id`]: idOf(box), after_id: resumePoint(box) };
  if (typeof since === "number") request.since = since;
  socket.emit(`${kind}:subscribe`, request, (reply) => {
    if (!reply || reply.error) {
      status(box, (reply && reply.error) || "Could not connect to the room.");
      return;
    }
    if (reply.reload) { window.location.reload(); return; }
    for (const message of reply.messages) insertMessage(box, message.html);
    status(box, "");
    if (kind === "conversation") { conversation.markRead(box); conversation.showSeen(box); }
  });
}

function setUp(box) {
  if (box.dataset.chatReady) return;
  box.dataset.chatReady = "1";
  prepare(box, box);
  regroup(box);
  scrollToEnd(box);
  watchOlder(box);
  if (kindOf(box) === "conversation") { conversation.markRead(box); conversation.showSeen(box); }
  if (socket.connected) subscribe(box);
  else markResumePoint(box);
  outbox.resumeOutbox(box);  // messages written before a reload are still waiting
}

function listen() {
  socket.on("connect", () => boxes().forEach((box) => subscribe(box)));
  socket.on("live:resync", ({ since }) => boxes().forEach((box) => subscribe(box, since)));
  socket.on("disconnect", () => boxes().forEach((box) => {
    markResumePoint(box);
    status(box, "Connection lost. Reconnecting…");
  }));

  socket.on("room:message", ({ room_id, html }) => {
    const box = boxFor("room", room_id);
    if (box) insertMessage(box, html);
  });
  socket.on("room:message-updated", ({ room_id, id, html }) => {
    const box = boxFor("room", room_id);
    if (box) replaceMessage(box, id, html);
  });
  socket.on("room:message-deleted", ({ room_id, id }) => {
    const box = boxFor("room", room_id);
    if (box) removeMessage(box, messageIn(box, id));
  });
  socket.on("room:removed", ({ room_id, lobby }) => {
    const box = boxFor("room", room_id);
    if (box) closeComposer(box, `The host removed you from ${lobby ? "the lobby" : "this room"}.`);
  });
  socket.on("room:closed", ({ room_id }) => {
    const box = boxFor("room", room_id);
    if (box) closeComposer(box, "This room was deleted.");
  });

  conversation.listen(socket);

  // Boxes arriving with a page (boosted navigation) or older history scrolled in.
  htmx.onLoad((root) => {
    if (root.matches && root.matches(SELECTOR)) setUp(root);
    if (root.querySelectorAll) root.querySelectorAll(SELECTOR).forEach(setUp);
    const box = root.closest && root.closest(SELECTOR);
    if (box && box.dataset.chatReady) { prepare(root, box); regroup(box); watchOlder(box); }
  });

  // Leaving a page with a chat: stop hearing it (one event per kind of stream, as subscribe).
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target !== document.body) return;
    for (const box of boxes()) {
      const kind = kindOf(box);
      socket.emit(`${kind}:unsubscribe`, { [`${kind}_id`]: idOf(box) });
    }
  });

  outbox.listen(socket);

  // A deleted message leaves this tab even if the broadcast is slow to come back.
  document.addEventListener("htmx:afterRequest", (event) => {
    const button = event.detail.elt;
    if (button.hasAttribute && button.hasAttribute("data-delete") && event.detail.successful) {
      const item = button.closest(".message");
      const box = item && item.closest(SELECTOR);
      if (box) removeMessage(box, item);
      else if (item) item.remove();
    }
  });
}

if (socket) listen();
