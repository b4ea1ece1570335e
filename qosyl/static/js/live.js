// Live updates of what a tab has on screen, beyond chat (qosyl/live/watching.py):
// - the posts shown (elements with data-live-post) and the room whose participants are
//   listed (data-live-room) are watched over the socket; the server checks each;
// - a new comment on the open post page is fetched as this viewer and put under its parent;
//   a deleted one goes. Counts and participant lists come as "html" and "trigger" pushes,
//   which realtime.js handles.
import { observed } from "./socket.js";
import { socket } from "./socket.js";

function listen() {
  // The server's own limit (qosyl/live/watching.py), written on <body> by base.html.
  const MAX_POSTS = Number(document.body.dataset.watchLimit) || Infinity;

  let watched = "";
  let pending = false;
  function watch(force) {
    if (pending) return;
    pending = true;
    // Once per burst of swaps (infinite scroll, out-of-band fragments).
    setTimeout(() => {
      pending = false;
      const posts = [...new Set(
        [...document.querySelectorAll("[data-live-post]")].map((el) => Number(el.dataset.livePost)),
      )].slice(0, MAX_POSTS);
      const roomElement = document.querySelector("[data-live-room]");
      const room = roomElement ? Number(roomElement.dataset.liveRoom) : null;
      const wanted = JSON.stringify({ posts, room });
      if ((!force && wanted === watched) || !socket.connected) return;
      watched = wanted;
      // The answer says what the server let this tab watch (tests wait for it too).
      socket.emit("live:watch", { posts, room }, (answer) => {
        observed.watched = answer;
      });
    }, 0);
  }

  // A new connection watches nothing yet.
  socket.on("connect", () => watch(true));
  if (socket.connected) watch(true);
  document.addEventListener("htmx:afterSettle", () => watch(false));
  // A block may hide posts on screen: the server checks the list again.
  document.body.addEventListener("relations-changed", () => watch(true));

  const comment = (id) => document.getElementById(`comment-${id}`);

  // The author's tab inserts its own comment from the form's answer; whichever of that and
  // the push comes second finds it there (or, for the form's copy, is removed below).
  let fetching = Promise.resolve();
  socket.on("comment", ({ post_id: postId, id, parent_id: parentId }) => {
    const section = document.querySelector(`[data-live-comments][data-post-id="${postId}"]`);
    if (!section || comment(id)) return;
    // One at a time, so that comments keep their order.
    fetching = fetching
      .then(() => fetch(`${section.dataset.liveComments}${id}`, { credentials: "same-origin" }))
      .then((response) => (response.ok ? response.text() : null)) // 404: a block hides it
      .then((html) => {
        if (!html || comment(id)) return;
        const list = document.getElementById(parentId ? `replies-${parentId}` : "comment-list");
        if (list) htmx.swap(list, html, { swapStyle: "beforeend" });
      })
      .catch(() => {});
  });

  document.addEventListener("htmx:oobAfterSwap", () => {
    const seen = new Set();
    for (const item of document.querySelectorAll("#comments li.comment")) {
      if (seen.has(item.id)) item.remove();
      else seen.add(item.id);
    }
  });

  socket.on("comment:deleted", ({ ids }) => {
    for (const id of ids) {
      const item = comment(id);
      // In this tab, the delete button's own answer removes it.
      if (item && !item.querySelector(".htmx-request")) item.remove();
    }
  });
}

if (socket) listen();
