/* Teambudget's service worker, served at /sw.js by web/pwa.py, which fills in VERSION and PRECACHE_URLS.
   - Pages: network first; after NETWORK_TIMEOUT_MS or without network, this member's last copy with the
     offline banner shown, else the offline page. Copies are kept per member (PAGE_CACHE_HEADER) and
     dropped as soon as a page arrives for someone else or for no one.
   - Static files and /scripts.js: cache first, but only versioned URLs (?v=<hash>), whose bytes never change.
   - POSTs and everything else go to the network untouched and are never stored.
   - The outbox (static/js/outbox.js, imported below) is sent on Background Sync; its page is in the shell.
   - Push messages are shown as notifications; a tap opens the request they name. */
const VERSION = /* VERSION */ "dev";
const PRECACHE_URLS = /* PRECACHE_URLS */ [];
const STATIC_CACHE = "static-" + VERSION;
const PAGES_PREFIX = "pages-";
const OFFLINE_URL = "/offline";
const NETWORK_TIMEOUT_MS = 3000;
const PAGE_CACHE_HEADER = "Teambudget-Page-Cache";
const STORED_AT_HEADER = "Teambudget-Stored-At";
const OUTBOX_SCRIPT = PRECACHE_URLS.find((url) => url.startsWith("/static/js/outbox.js"));
if (OUTBOX_SCRIPT) importScripts(OUTBOX_SCRIPT);  // the same sending code the pages run

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

// The page's "new version" button (static/js/updates.js) lets the waiting worker take over.
self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

// Background Sync: the network is back, send what waits in the outbox (one run at a time, see outbox.js).
self.addEventListener("sync", (event) => {
  if (event.tag === "outbox" && self.teambudgetOutbox) event.waitUntil(self.teambudgetOutbox.sync());
});

// A push (web/push.py) names a team, an amount and a cost category, never a person: show it as sent.
self.addEventListener("push", (event) => {
  const message = event.data ? event.data.json() : {};
  const icon = PRECACHE_URLS.find((url) => url.startsWith("/static/icons/icon-192.png"));
  event.waitUntil(self.registration.showNotification(message.title || "Teambudget",
    { body: message.body || "", tag: message.tag, icon: icon, data: { url: message.url || "/" } }));
});

// Tapping a notification opens its request: in a window that shows it already, else a new one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || "/", self.location.origin);
  const url = target.origin === self.location.origin ? target.href : self.location.origin + "/";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const open = windows.find((client) => client.url === url);
    return open ? open.focus() : self.clients.openWindow(url);
  }));
});

// Pages network first, versioned static files cache first, the rest untouched.
self.addEventListener("fetch", (event) => {
  const request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" || request.headers.get("HX-Boosted") === "true") event.respondWith(networkFirst(event));
  else if ((url.pathname.startsWith("/static/") || url.pathname === "/scripts.js") && url.searchParams.has("v")) {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirst(event) {
  const network = Promise.resolve(event.preloadResponse).then((preloaded) => preloaded || fetch(event.request));
  event.waitUntil(network.then((response) => keepPage(event.request, response.clone())).catch(() => {}));
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS));
  const first = await Promise.race([network.catch(() => null), timeout]);
  if (first) return first;
  const copy = await keptPage(event.request);
  if (copy) return copy;
  return network.catch(() => shellPage(event.request));
}

// A page of the shell (the outbox) as kept at install, else the offline page.
async function shellPage(request) {
  const options = { cacheName: STATIC_CACHE, ignoreVary: true, ignoreSearch: true };
  return (await caches.match(new URL(request.url).pathname, options)) || caches.match(OFFLINE_URL, options);
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
  // The banner over the page, and the same "as of" beside every amount that says what is left (the balance).
  const html = (await copy.text()).replace("data-offline-banner hidden", 'data-offline-banner role="status"')
    .replaceAll("data-offline-mark hidden", "data-offline-mark")
    .replaceAll("<time data-offline-time></time>", `<time data-offline-time datetime="${storedAt.toISOString()}">${time}</time>`)
    // "5 minuten geleden" would be frozen at the moment the copy was kept: the page's own absolute time instead
    .replace(/<span([^>]*) data-kept="([^"]*)">[^<]*<\/span>/g, "<span$1>$2</span>");
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
