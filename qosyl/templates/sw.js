// Qosyl service worker: keeps the app shell, an offline page, and copies of the
// signed-in pages this person opened, so they stay readable offline.
// - Navigations go to the network first. A full page of a signed-in user (its <body>
//   carries data-user-id) is kept in that user's own cache, "qosyl-pages-<id>".
// - Offline, a kept copy is served, marked so the page shows an "offline" banner
//   (static/js/offline.js); a page never opened gets the offline page.
// - Never across users: a page of another user, or of nobody (signed out), drops every
//   kept page first; offline.js also drops them when "Sign out" is pressed.
// - HTMX fragments (HX-Request without HX-Boosted) are never kept: only whole pages.
// - The shell's static files come from the shell cache. Their URLs carry a hash of their
//   content (modules reach each other's hashed URLs through the page's import map), so a
//   deploy that changes a file gives it a new URL, a new cache name, and the old cache goes.
const CACHE = "qosyl-shell-{{ version }}";
const PAGES_PREFIX = "qosyl-pages-";
const MAX_PAGES = 60;
const PRECACHE = {{ precache_urls|tojson }};
const OFFLINE_URL = {{ offline_url|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  // Old shells go; kept pages stay (they belong to the person, not to a version).
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key !== CACHE && !key.startsWith(PAGES_PREFIX))
          .map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

function dropPages(exceptName) {
  return caches.keys().then((keys) => Promise.all(
    keys.filter((key) => key.startsWith(PAGES_PREFIX) && key !== exceptName)
      .map((key) => caches.delete(key))
  ));
}

// A whole page (a navigation, or htmx's boosted link which fetches the whole page).
function isPageRequest(request) {
  if (request.mode === "navigate") return true;
  return request.headers.get("HX-Boosted") === "true"
    && request.headers.get("HX-History-Restore-Request") !== "true";
}

async function keep(response) {
  if (!response.ok || response.type !== "basic") return;
  if (!(response.headers.get("Content-Type") || "").startsWith("text/html")) return;
  if (response.headers.has("Content-Disposition")) return; // a file, not one of our pages
  const html = await response.clone().text();
  const match = /<body\b[^>]*\sdata-user-id="(\d+)"/.exec(html);
  if (!match) {
    // Signed out (or a page for nobody): nothing kept may outlive the sign-in.
    if (/<body\b/.test(html)) await dropPages(null);
    return;
  }
  const name = PAGES_PREFIX + match[1];
  await dropPages(name);
  const cache = await caches.open(name);
  const url = new URL(response.url);
  url.hash = "";
  // Keyed by the bare URL, so a later navigation finds it whatever headers it sends.
  await cache.put(url.href, response);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map((key) => cache.delete(key)));
}

async function keptCopy(request) {
  const names = (await caches.keys()).filter((key) => key.startsWith(PAGES_PREFIX));
  if (names.length !== 1) return undefined; // none, or a sign-in change in flight
  const cache = await caches.open(names[0]);
  const url = new URL(request.url);
  url.hash = "";
  const hit = await cache.match(url.href, { ignoreVary: true });
  if (!hit) return undefined;
  const html = (await hit.text()).replace(/<body\b/, "<body data-offline-copy");
  const headers = new Headers(hit.headers);
  headers.delete("Content-Length");
  return new Response(html, { status: 200, headers });
}

async function pageFromNetwork(event) {
  try {
    const response = await fetch(event.request);
    event.waitUntil(keep(response.clone()).catch(() => {}));
    return response;
  } catch (error) {
    if (event.request.mode !== "navigate") throw error; // htmx shows its own offline message
    return (await keptCopy(event.request)) || (await caches.match(OFFLINE_URL));
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (isPageRequest(request)) {
    event.respondWith(pageFromNetwork(event));
    return;
  }
  if (PRECACHE.includes(url.pathname + url.search)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "drop-pages") event.waitUntil(dropPages(null));
});
