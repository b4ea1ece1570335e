// Text messages waiting in the outbox, kept in IndexedDB (PWA-2) so they outlive a reload.
// Without IndexedDB (or when it fails) nothing is kept, and the outbox still works in memory.
let opened = null;

function open() {
  if (!("indexedDB" in window)) return Promise.reject(new Error("no IndexedDB"));
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open("qosyl-outbox", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("messages", { keyPath: "clientId" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

const run = (mode, action) => open().then((db) => new Promise((resolve, reject) => {
  const objects = db.transaction("messages", mode).objectStore("messages");
  const request = action(objects);
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
}));

export const put = (entry) => run("readwrite", (objects) => objects.put(entry)).catch(() => {});
export const remove = (clientId) => run("readwrite", (objects) => objects.delete(clientId)).catch(() => {});
export const all = () => run("readonly", (objects) => objects.getAll())
  .then((entries) => entries.sort((x, y) => x.created - y.created))
  .catch(() => []);
