// A message's menu (Edit, Delete): shown with the buttons this viewer may use. Per-viewer
// controls come from data attributes against <body data-user-id>, so one rendering of a
// message serves everyone; the server checks every action again.
import { me } from "../socket.js";

export function applyControls(item, box) {
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
