// A meeting starts in one of this user's rooms or conversations (actions/meetings.py,
// MeetingStarted; the host and people in a block with them are not told): every tab shows
// a toast with a Join link, and a tab showing that room's or conversation's page puts the
// banner of components/_meeting_banner.html in its slot (data-meeting-slot). When the
// meeting ends, both go. Payload text goes in with textContent only.
import { me, socket } from "../socket.js";
import { toast } from "../toast.js";

const TOAST_MS = 20000;  // longer than the usual six seconds: there is a link to click
const toasts = new Map();  // meeting id -> its toast

const meetingUrl = (id) => `/meetings/${encodeURIComponent(id)}`;

function slotFor(roomId, conversationId) {
  const [kind, id] = roomId != null ? ["room", roomId] : ["conversation", conversationId];
  if (id == null || !Number.isInteger(Number(id))) return null;
  return document.querySelector(`[data-meeting-slot][data-meeting-${kind}="${Number(id)}"]`);
}

function banner(id, hostName) {
  const section = document.createElement("section");
  section.className = "meeting-banner";
  section.setAttribute("aria-label", "Meeting running now");
  section.dataset.meetingBanner = id;
  const text = document.createElement("p");
  text.className = "meeting-banner__text";
  text.textContent = `${hostName} started a meeting.`;
  const link = document.createElement("a");
  link.className = "button button--primary button--small";
  link.setAttribute("hx-boost", "false");
  link.href = meetingUrl(id);
  link.textContent = "Join the meeting";
  section.append(text, link);
  return section;
}

function banners(id) {
  return [...document.querySelectorAll("[data-meeting-banner]")].filter(
    (element) => element.dataset.meetingBanner === id,
  );
}

function listen() {
  socket.on("meeting:started", (data) => {
    const { meeting_id: id, host_id: hostId, host_name: hostName } = data || {};
    if (typeof id !== "string" || !id || String(hostId) === me) return;
    const slot = slotFor(data.room_id, data.conversation_id);
    if (slot && !banners(id).length) slot.replaceChildren(banner(id, hostName));
    if (toasts.has(id)) return;
    const item = toast(`${hostName} started a meeting.`, "info", {
      link: { href: meetingUrl(id), text: "Join" },
      duration: TOAST_MS,
    });
    if (item) {
      toasts.set(id, item);
      setTimeout(() => toasts.delete(id), TOAST_MS);
    }
  });

  socket.on("meeting:ended", (data) => {
    const id = data && data.meeting_id;
    if (typeof id !== "string") return;
    for (const element of banners(id)) element.remove();
    const item = toasts.get(id);
    if (item) item.remove();
    toasts.delete(id);
  });
}

if (socket) listen();
