// Live chat for rooms and private conversations alike: subscribe each chat box on the page,
// catch up after a drop, keep one copy of each message in id order, show the controls the
// viewer may use (the server checks every action again), and in conversations report what
// the viewer has read and show who has seen the viewer's latest message.
(() => {
  "use strict";
  const me = document.body.dataset.userId;
  const socket = window.qosyl && window.qosyl.socket;
  if (!me || !socket) return;

  const KINDS = { room: "data-chat-room", conversation: "data-chat-conversation" };
  const boxes = () => document.querySelectorAll("[data-chat-room], [data-chat-conversation]");
  const boxFor = (kind, id) => document.querySelector(`[${KINDS[kind]}="${id}"]`);
  const kindOf = (box) => (box.hasAttribute(KINDS.room) ? "room" : "conversation");
  const idOf = (box) => Number(box.getAttribute(KINDS[kindOf(box)]));
  const list = (box) => box.querySelector(".chat__messages");
  const scroller = (box) => box.querySelector(".chat__scroll");
  const status = (box, text) => { box.querySelector("[data-chat-status]").textContent = text; };

  function lastId(box) {
    let last = 0;
    for (const item of list(box).querySelectorAll(".message[data-message-id]")) {
      last = Math.max(last, Number(item.dataset.messageId));
    }
    return last;
  }

  function localTime(root) {
    for (const time of root.querySelectorAll("time[data-local-time]")) {
      const when = new Date(time.dateTime);
      const today = new Date().toDateString() === when.toDateString();
      time.textContent = today
        ? when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
        : when.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    }
  }

  function applyControls(item, box) {
    const mine = item.dataset.authorId === me;
    const hosting = box.dataset.hostId === me;
    // How long a message may be edited: the server's rule, written on the chat box.
    const fresh = Date.now() - Number(item.dataset.sent) * 1000 < Number(box.dataset.editWindow || 0) * 1000;
    let any = false;
    for (const button of item.querySelectorAll("[data-for]")) {
      const roles = button.dataset.for.split(" ");
      let allowed = (roles.includes("author") && mine) || (roles.includes("host") && hosting);
      if (button.hasAttribute("data-edit")) allowed = allowed && fresh;
      button.hidden = !allowed;
      any = any || allowed;
    }
    const menu = item.querySelector("[data-message-menu]");
    if (menu) menu.hidden = !any;
  }

  // Consecutive messages by one person within a few minutes sit under one name and
  // picture, as in Slack or Zulip; the name stays there for screen readers.
  const GROUP_WITHIN_S = 5 * 60;
  function regroup(box) {
    let previous = null;
    for (const item of list(box).querySelectorAll(".message[data-message-id]")) {
      const continued = previous !== null
        && previous.dataset.authorId === item.dataset.authorId
        && Number(item.dataset.sent) - Number(previous.dataset.sent) < GROUP_WITHIN_S;
      item.classList.toggle("message--continued", continued);
      previous = item;
    }
  }

  function prepare(root, box) {
    for (const item of root.querySelectorAll ? root.querySelectorAll(".message") : []) {
      applyControls(item, box);
    }
    if (root.classList && root.classList.contains("message")) applyControls(root, box);
    localTime(root);
  }

  function nearBottom(box) {
    const el = scroller(box);
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  function scrollToEnd(box) {
    const el = scroller(box);
    el.scrollTop = el.scrollHeight;
  }

  // Put a message in its place by id; a second copy (broadcast and reply both) is dropped.
  function insertMessage(box, html, { own = false } = {}) {
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    const item = holder.content.firstElementChild;
    if (!item) return;
    const id = Number(item.dataset.messageId);
    if (list(box).querySelector(`.message[data-message-id="${id}"]`)) return;
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

  function subscribe(box) {
    const kind = kindOf(box);
    const request = { [`${kind}_id`]: idOf(box), after_id: lastId(box) };
    socket.emit(`${kind}:subscribe`, request, (reply) => {
      if (!reply || reply.error) {
        status(box, (reply && reply.error) || "Could not connect to the room.");
        return;
      }
      if (reply.reload) { window.location.reload(); return; }
      for (const message of reply.messages) insertMessage(box, message.html);
      status(box, "");
      if (kind === "conversation") { markRead(box); showSeen(box); }
    });
  }

  function setUp(box) {
    if (box.dataset.chatReady) return;
    box.dataset.chatReady = "1";
    prepare(box, box);
    regroup(box);
    scrollToEnd(box);
    if (kindOf(box) === "conversation") { markRead(box); showSeen(box); }
    if (socket.connected) subscribe(box);
    resumeOutbox(box);  // messages written before a reload are still waiting
  }

  socket.on("connect", () => boxes().forEach(subscribe));
  socket.on("disconnect", () => boxes().forEach((box) => status(box, "Connection lost. Reconnecting…")));

  socket.on("room:message", ({ room_id, html }) => {
    const box = boxFor("room", room_id);
    if (box) insertMessage(box, html);
  });
  socket.on("room:message-updated", ({ room_id, id, html }) => {
    const box = boxFor("room", room_id);
    const old = box && list(box).querySelector(`.message[data-message-id="${id}"]`);
    if (!old || old.classList.contains("message--editing")) return;
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    const item = holder.content.firstElementChild;
    old.replaceWith(item);
    htmx.process(item);
    prepare(item, box);
    regroup(box);
  });
  socket.on("room:message-deleted", ({ room_id, id }) => {
    const box = boxFor("room", room_id);
    const item = box && list(box).querySelector(`.message[data-message-id="${id}"]`);
    if (item) { item.remove(); regroup(box); }
  });
  for (const [event, text] of [
    ["room:removed", ({ lobby }) => `The host removed you from ${lobby ? "the lobby" : "this room"}.`],
    ["room:closed", () => "This room was deleted."],
  ]) {
    socket.on(event, (data) => {
      const box = boxFor("room", data.room_id);
      if (!box) return;
      status(box, text(data));
      const composer = box.querySelector("[data-chat-composer]");
      if (composer) composer.remove();
    });
  }

  // Conversations: read positions and "seen".
  const csrfToken = () => JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];

  function markRead(box) {
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
  function showSeen(box) {
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
  for (const event of ["conversation:members", "conversation:renamed"]) {
    socket.on(event, ({ conversation_id }) => {
      const box = boxFor("conversation", conversation_id);
      if (box) refreshGroup(box);
    });
  }
  socket.on("conversation:removed", ({ conversation_id }) => {
    const box = boxFor("conversation", conversation_id);
    if (!box) return;
    status(box, "You were removed from this group.");
    const composer = box.querySelector("[data-chat-composer]");
    if (composer) composer.remove();
  });

  document.addEventListener("visibilitychange", () => {
    for (const box of boxes()) if (kindOf(box) === "conversation") markRead(box);
  });

  // Boxes arriving with a page (boosted navigation) or older history scrolled in.
  htmx.onLoad((root) => {
    const selector = "[data-chat-room], [data-chat-conversation]";
    if (root.matches && root.matches(selector)) setUp(root);
    if (root.querySelectorAll) root.querySelectorAll(selector).forEach(setUp);
    const box = root.closest && root.closest(selector);
    if (box && box.dataset.chatReady) { prepare(root, box); regroup(box); }
  });

  // Leaving a page with a chat: stop hearing its room.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target !== document.body) return;
    for (const box of boxes()) {
      if (kindOf(box) === "room") socket.emit("room:unsubscribe", { room_id: idOf(box) });
      else socket.emit("conversation:unsubscribe", {});
    }
  });

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

  // The outbox: every message a tab writes goes through it, and it sends one at a time, in
  // the order written, so the server stores them in that order (several requests in flight
  // may reach it in any order). The box empties at once; each message shows as pending
  // until stored. Nothing is dropped: a message refused for now (offline, over the rate
  // limit, a server hiccup) waits and goes again; one refused for good says why and gives
  // its text back with one click. Text messages are also kept in IndexedDB (PWA-2), so they
  // outlive a reload; each carries the client id it got when written, so a retry the server
  // already stored is not stored twice.
  const store = (() => {
    let opened = null;
    const open = () => {
      if (!("indexedDB" in window)) return Promise.reject(new Error("no IndexedDB"));
      opened = opened || new Promise((resolve, reject) => {
        const request = indexedDB.open("qosyl-outbox", 1);
        request.onupgradeneeded = () => request.result.createObjectStore("messages", { keyPath: "clientId" });
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      return opened;
    };
    const run = (mode, action) => open().then((db) => new Promise((resolve, reject) => {
      const objects = db.transaction("messages", mode).objectStore("messages");
      const request = action(objects);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }));
    return {
      put: (entry) => run("readwrite", (objects) => objects.put(entry)).catch(() => {}),
      remove: (clientId) => run("readwrite", (objects) => objects.delete(clientId)).catch(() => {}),
      all: () => run("readonly", (objects) => objects.getAll())
        .then((entries) => entries.sort((x, y) => x.created - y.created))
        .catch(() => []),
    };
  })();

  const queue = [];  // entries waiting to be sent, oldest first; files stay in memory only
  const boxOf = (entry) => boxFor(entry.kind, entry.streamId);
  const pendingItem = (entry) => {
    const box = boxOf(entry);
    return box && list(box).querySelector(`.message--pending[data-client-id="${entry.clientId}"]`);
  };

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

  async function flush() {
    if (flushing) return;
    flushing = true;
    clearTimeout(retryTimer);
    try {
      while (queue.length) {
        if (!navigator.onLine) {
          holdAll("Waiting for the connection…");
          status(boxOf(queue[0]) || document.body, "You are offline: your messages will be sent when the connection is back.");
          return;  // "online" and a reconnect call flush again
        }
        if (!(await deliver(queue[0]))) return;  // keep the order: the same one goes next
        queue.shift();
      }
    } finally {
      flushing = false;
    }
  }

  function holdAll(note) {
    for (const entry of queue) showPending(entry, note);
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
    const holder = document.createElement("template");
    holder.innerHTML = html;
    const error = holder.content.querySelector(".field__errors li, .form-errors p");
    return error ? error.textContent : "please try again.";
  }

  // A refused message: the server's errors by the field, the text (and file) back in the box.
  function showRefusal(form, html, text, files) {
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    const fresh = holder.content.querySelector("[data-chat-composer]");
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
    const box = form.closest("[data-chat-room], [data-chat-conversation]");
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
  async function resumeOutbox(box) {
    const kept = (await store.all()).filter((entry) => boxOf(entry) === box);
    for (const entry of kept) enqueue(entry);
    if (kept.length) flush();
  }

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

  // A deleted message leaves this tab even if the broadcast is slow to come back.
  document.addEventListener("htmx:afterRequest", (event) => {
    const button = event.detail.elt;
    if (button.hasAttribute && button.hasAttribute("data-delete") && event.detail.successful) {
      const item = button.closest(".message");
      const box = item && item.closest("[data-chat-room], [data-chat-conversation]");
      if (item) item.remove();
      if (box) regroup(box);
    }
  });
})();
