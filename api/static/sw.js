// The tablet's service worker: keeps /tablet and its assets on the device so the page
// opens with no network. The API (/v1/…) is never cached: the outbox in IndexedDB is
// what makes filing work offline. The server fills in the version of the assets, so a
// new release replaces the whole cache at once on the next visit online.

const VERSION = "__ASSET_VERSION__";
const CACHE = `fieldlog-tablet-${VERSION}`;
const ASSETS = [
  "/tablet",
  "/static/tablet.js",
  "/static/common.js",
  "/static/i18n.js",
  "/static/outbox.js",
  "/static/style.css",
  "/static/icon.svg",
  "/static/tablet.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((key) => key.startsWith("fieldlog-tablet-") && key !== CACHE).map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !ASSETS.includes(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(url.pathname);
      if (cached) return cached;
      const response = await fetch(request);
      if (response.ok) await cache.put(url.pathname, response.clone());
      return response;
    }),
  );
});
