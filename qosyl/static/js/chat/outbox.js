// The outbox: every message a tab writes goes through it, and it sends one at a time, in
// the order written, so the server stores them in that order (several requests in flight
// may reach it in any order). The box empties at once; each message shows as pending
// until stored. Nothing is dropped: a message refused for now (offline, over the rate
// limit, a server hiccup) waits and goes again; one refused for good says why and gives
// its text back with one click. Text messages are also kept in IndexedDB (store.js), so
// they outlive a reload; each carries the client id it got when written, so a retry the
// server already stored is not stored twice.
import { boxFor } from "./box.js";
import { csrfToken } from "./box.js";
import { idOf } from "./box.js";
import { kindOf } from "./box.js";
import { list } from "./box.js";
import { scrollToEnd } from "./box.js";
import { SELECTOR } from "./box.js";
import { status } from "./box.js";
import { showSeen } from "./conversation.js";
import { insertMessage } from "./render.js";
import { parse } from "./render.js";
import * as store from "./store.js";

const queue = [];  // entries waiting to be sent, oldest first; files stay in memory only
const boxOf = (entry) => boxFor(entry.kind, entry.streamId);
const pendingItem = (entry) => {
  const box = boxOf(entry);
  return box && list(box).querySelector(`.message--pending[data-client-id="${entry.clientId}"]`);
};

const newClientId = () => (crypto.randomUUID && crypto.randomUUID())
  || `${Date.now()}-${Math.random().toString(36).slice(2)}`;

function clearErrors(form) {
  form.querySelectorAll(".field__errors, .form-errors").forEach((node) => node.remove());
  form.querySelectorAll(".field--invalid").forEach((node) => node.classList.remove("field--invalid"));
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const kept = (input.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (kept.length) input.setAttribute("aria-describedby", kept.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

function showPending(entry, note = "Sending…") {
  const box = boxOf(entry);
  if (!box) return;
  let item = pendingItem(entry);
  if (!item) {
    item = document.createElement("li");
    item.className = "message message--pending";
    item.dataset.clientId = entry.clientId;
    const body = document.createElement("p");
    body.className = "message__body";
    body.textContent = entry.text || (entry.fileNames || []).join(", ");  // never parsed as HTML
    const line = document.createElement("p");
    line.className = "message__pending";
    item.append(body, line);
    list(box).append(item);
    scrollToEnd(box);
  }
  item.querySelector(".message__pending").textContent = note;
}

function dropPending(entry) {
  const item = pendingItem(entry);
  if (item) item.remove();
}

// Refused for good: the item stays, says why, and Edit puts the text back in the box.
function showFailed(entry, reason) {
  showPending(entry, `Not sent: ${reason}`);
  const item = pendingItem(entry);
  if (!item) return;
  item.classList.add("message--failed");
  const edit = document.createElement("button");
  edit.type = "button";
  edit.className = "button button--small";
  edit.textContent = "Edit and send again";
  edit.addEventListener("click", () => {
    const box = boxOf(entry);
    const field = box && box.querySelector("[data-chat-composer] textarea");
    if (field) {
      field.value = field.value ? `${field.value}\n${entry.text}` : entry.text;
      field.focus();
    }
    item.remove();
  });
  item.append(edit);
}

function enqueue(entry) {
  if (queue.some((queued) => queued.clientId === entry.clientId)) return;
  queue.push(entry);
  showPending(entry, navigator.onLine ? "Sending…" : "Waiting for the connection…");
}

let flushing = false;
let retryTimer = null;
let backoff = 1000;
function retryIn(ms) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, ms);
}

function holdAll(note) {
  for (const entry of queue) showPending(entry, note);
}

// A word for each chat on this page with messages waiting, in that chat's own status line
// (messages written in a chat this tab has since left have no box here, and no line).
function tellWaiting(text) {
  for (const box of new Set(queue.map(boxOf))) if (box) status(box, text);
}

async function flush() {
  if (flushing) return;
  flushing = true;
  clearTimeout(retryTimer);
  try {
    while (queue.length) {
      if (!navigator.onLine) {
        holdAll("Waiting for the connection…");
        tellWaiting("You are offline: your messages will be sent when the connection is back.");
        return;  // "online" and a reconnect call flush again
      }
      if (!(await deliver(queue[0]))) return;  // keep the order: the same one goes next
      queue.shift();
    }
  } finally {
    flushing = false;
  }
}

// Send one message. True when it is done with (stored, or refused for good).
async function deliver(entry) {
  const data = new FormData();
  for (const [name, value] of entry.fields) data.append(name, value);
  for (const [name, file] of entry.files || []) data.append(name, file);
  const box = boxOf(entry);
  let response;
  try {
    response = await fetch(entry.action, {
      method: "POST",
      body: data,
      headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
  } catch (_) {
    holdAll("Waiting for the connection…");
    if (box) status(box, "Connection lost: your messages will be sent when it is back.");
    backoff = Math.min(backoff * 2, 30000);
    retryIn(backoff);
    return false;
  }
  const html = await response.text();
  if (response.status === 429) {
    const seconds = Math.max(1, Number(response.headers.get("Retry-After")) || 5);
    holdAll(`Not sent yet: you are sending messages too fast. Sending again in ${seconds} s.`);
    if (box) status(box, "Slow down a little: your messages will go out in a moment, in order.");
    retryIn(seconds * 1000);
    return false;
  }
  if (response.status >= 500) {
    holdAll("Not sent yet: the server had a problem. Trying again…");
    backoff = Math.min(backoff * 2, 30000);
    retryIn(backoff);
    return false;
  }
  backoff = 1000;
  await store.remove(entry.clientId);
  if (!box) return true;
  if (response.ok) {
    dropPending(entry);
    insertMessage(box, html, { own: true });
    if (entry.kind === "conversation") showSeen(box);
    if (!queue.slice(1).length) status(box, "");
    return true;
  }
  if (response.status === 422) {
    const form = box.querySelector("[data-chat-composer]");
    const field = form && form.querySelector("textarea");
    if (field && !field.value && queue.length === 1) {
      // Nothing typed since: the text (and file) go back in the box, errors by the field.
      dropPending(entry);
      showRefusal(form, html, entry.text, entry.files);
      return true;
    }
    showFailed(entry, refusalText(html));
    return true;
  }
  showFailed(entry, response.status === 404 || response.status === 403
    ? "this chat is no longer open to you." : "please try again.");
  return true;
}

function refusalText(html) {
  const error = parse(html).querySelector(".field__errors li, .form-errors p");
  return error ? error.textContent : "please try again.";
}

// A refused message: the server's errors by the field, the text (and file) back in the box.
function showRefusal(form, html, text, files) {
  const fresh = parse(html).querySelector("[data-chat-composer]");
  if (!fresh) return;
  const typed = form.querySelector("textarea").value;
  form.replaceWith(fresh);
  const field = fresh.querySelector("textarea");
  field.value = typed || text;
  const fileInput = fresh.querySelector('input[type="file"]');
  if (files && files.length && fileInput && typeof DataTransfer !== "undefined") {
    const transfer = new DataTransfer();
    for (const [, file] of files) transfer.items.add(file);
    fileInput.files = transfer.files;
  }
  field.focus();
}

async function sendFrom(form) {
  const box = form.closest(SELECTOR);
  const field = form.querySelector("textarea");
  const text = field.value;
  const data = new FormData(form);
  const fileInput = form.querySelector('input[type="file"]');
  const files = fileInput ? [...fileInput.files].map((file) => [fileInput.name, file]) : [];
  if (!text.trim() && !files.length) {
    // Nothing to send: the server says so by the field, as it does without JavaScript.
    const response = await fetch(form.action, {
      method: "POST", body: data, headers: { "HX-Request": "true" }, credentials: "same-origin",
    }).catch(() => null);
    if (response && response.status === 422) showRefusal(form, await response.text(), text);
    return;
  }
  const clientId = newClientId();
  const idName = [...data.keys()].find((key) => key.endsWith("client_id"));
  if (idName) data.set(idName, clientId);
  const entry = {
    clientId,
    kind: kindOf(box),
    streamId: idOf(box),
    action: form.action,
    text,
    fields: [...data.entries()].filter(([, value]) => typeof value === "string"),
    created: Date.now(),
  };
  clearErrors(form);
  field.value = "";
  if (fileInput) fileInput.value = "";
  field.focus();
  if (files.length) {
    entry.files = files;
    entry.fileNames = files.map(([, file]) => file.name);
  } else {
    await store.put(entry);
  }
  enqueue(entry);
  flush();
}

// Messages kept from before a reload (or written in another tab of this chat) go first.
export async function resumeOutbox(box) {
  const kept = (await store.all()).filter((entry) => boxOf(entry) === box);
  for (const entry of kept) enqueue(entry);
  if (kept.length) flush();
}

export function listen(socket) {
  const flushOutbox = () => { backoff = 1000; flush(); };
  window.addEventListener("online", flushOutbox);
  socket.on("connect", flushOutbox);

  document.addEventListener("submit", (event) => {
    const form = event.target.closest && event.target.closest("[data-chat-composer]");
    if (!form) return;
    event.preventDefault();
    sendFrom(form);
  });

  // Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", (event) => {
    const form = event.target.closest && event.target.closest("[data-chat-composer]");
    if (!form || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    form.requestSubmit();
  });
}
