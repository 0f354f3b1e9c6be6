/* Teambudget's service worker, served at /sw.js by web/pwa.py, which fills in VERSION and PRECACHE_URLS.
   - Pages: network first; after NETWORK_TIMEOUT_MS or without network, this member's last copy with the
     offline banner shown, else the offline page. Copies are kept per member (PAGE_CACHE_HEADER) and
     dropped as soon as a page arrives for someone else or for no one.
   - Static files: cache first, but only versioned URLs (?v=<hash>), whose bytes never change.
   - POSTs and everything else go to the network untouched and are never stored. */
const VERSION = /* VERSION */ "dev";
const PRECACHE_URLS = /* PRECACHE_URLS */ [];
const STATIC_CACHE = "static-" + VERSION;
const PAGES_PREFIX = "pages-";
const OFFLINE_URL = "/offline";
const NETWORK_TIMEOUT_MS = 3000;
const PAGE_CACHE_HEADER = "Teambudget-Page-Cache";
const STORED_AT_HEADER = "Teambudget-Stored-At";

// Keep the shell; take over at once only on first install: an update waits until the member taps.
self.addEventListener("install", (event) => {
  const firstInstall = !self.registration.active;
  event.waitUntil(caches.open(STATIC_CACHE)
    .then((cache) => cache.addAll(PRECACHE_URLS.map((url) => new Request(url, { cache: "no-cache" }))))
    .then(() => firstInstall && self.skipWaiting()));
});

// Drop the shells of older versions, preload pages while the worker starts, control open pages.
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith("static-") && name !== STATIC_CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.registration.navigationPreload && self.registration.navigationPreload.enable())
    .then(() => self.clients.claim()));
});

// The page's "new version" button (static/js/app.js) lets the waiting worker take over.
self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

// Pages network first, versioned static files cache first, the rest untouched.
self.addEventListener("fetch", (event) => {
  const request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" || request.headers.get("HX-Boosted") === "true") event.respondWith(networkFirst(event));
  else if (url.pathname.startsWith("/static/") && url.searchParams.has("v")) event.respondWith(cacheFirst(request));
});

async function networkFirst(event) {
  const network = Promise.resolve(event.preloadResponse).then((preloaded) => preloaded || fetch(event.request));
  event.waitUntil(network.then((response) => keepPage(event.request, response.clone())).catch(() => {}));
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS));
  const first = await Promise.race([network.catch(() => null), timeout]);
  if (first) return first;
  const copy = await keptPage(event.request);
  if (copy) return copy;
  return network.catch(() => caches.match(OFFLINE_URL, { cacheName: STATIC_CACHE, ignoreVary: true }));
}

async function keepPage(request, response) {
  const kept = (await caches.keys()).find((name) => name.startsWith(PAGES_PREFIX));
  // A redirect ("/" to the member's team) is kept beside the member's pages, so the installed app starts offline.
  if (response.type === "opaqueredirect" && kept) return (await caches.open(kept)).put(request.url, response);
  // A redirect or a download says nothing about who is signed in; a page does.
  if (response.type !== "basic" || !(response.headers.get("Content-Type") || "").startsWith("text/html")) return;
  const owner = response.headers.get(PAGE_CACHE_HEADER), mine = PAGES_PREFIX + owner;
  const names = (await caches.keys()).filter((name) => name.startsWith(PAGES_PREFIX) && name !== mine);
  await Promise.all(names.map((name) => caches.delete(name)));  // another member's pages, or signed out
  if (!owner || !response.ok) return;
  const headers = new Headers(response.headers);
  headers.delete("Content-Encoding");  // the body is stored decoded
  headers.delete("Content-Length");
  headers.set(STORED_AT_HEADER, new Date().toISOString());
  const copy = new Response(await response.blob(), { status: response.status, headers: headers });
  await (await caches.open(mine)).put(response.url || request.url, copy);  // htmx follows redirects itself
}

async function keptPage(request) {
  const name = (await caches.keys()).find((candidate) => candidate.startsWith(PAGES_PREFIX));
  const copy = name && await (await caches.open(name)).match(request.url, { ignoreVary: true });
  if (!copy || copy.type === "opaqueredirect") return copy || null;
  const storedAt = new Date(copy.headers.get(STORED_AT_HEADER));
  const time = String(storedAt.getHours()).padStart(2, "0") + ":" + String(storedAt.getMinutes()).padStart(2, "0");
  const html = (await copy.text()).replace("data-offline-banner hidden", 'data-offline-banner role="status"')
    .replace("<time data-offline-time></time>", `<time data-offline-time datetime="${storedAt.toISOString()}">${time}</time>`);
  return new Response(html, { status: 200, headers: copy.headers });
}

async function cacheFirst(request) {
  const kept = await caches.match(request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(STATIC_CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}
