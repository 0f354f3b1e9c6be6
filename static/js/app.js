/* Teambudget's glue, for every page: the CSRF header for htmx, live regions, the kept copy shown offline,
   copy buttons, and what the other page scripts share (window.teambudget). No framework.
   - Live regions (data-live-etag) poll every second and send If-None-Match; the server answers 304
     until the team changed. Polling pauses while another script says so (pausePollingWhile: a card being
     swiped, a vote waiting for its undo) and on a kept copy. A failed poll keeps the region as it was and
     retries with backoff (1, 2, 4 … 30 s).
   - A kept copy shown offline (static/sw.js) stops polling and reloads once when the network is back.
   The rest has a file of its own: outbox.js and outbox-page.js (the outbox), votes.js (swipe votes),
   passkeys.js (ceremonies), updates.js (the service worker), signout.js, receipts.js, next-step.js (the
   request page's next step following the live poll), push.js. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // What pauses the live regions' polling besides a kept copy: predicates other scripts add (votes.js).
  var pauses = [];
  function pollingPaused() { return showingKeptCopy() || pauses.some(function (paused) { return paused(); }); }

  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail.ctx, etag = ctx.sourceElement && ctx.sourceElement.dataset.liveEtag;
    ctx.request.headers["X-CSRFToken"] = csrfToken();
    if (etag === undefined) return;
    // one poll at a time: a tick while a poll hangs would be queued and sent at once after its timeout
    if (pollingPaused() || liveWaiting(ctx.sourceElement) || livePolling.has(ctx.sourceElement)) {
      event.preventDefault();
      return;
    }
    ctx.request.headers["If-None-Match"] = etag;
    ctx.request.timeout = LIVE_TIMEOUT;
    liveStarted.set(ctx.sourceElement, Date.now());
    livePolling.add(ctx.sourceElement);
  });
  document.addEventListener("htmx:finally:request", function (event) {
    var region = liveRegionOf(event);
    if (region) livePolling.delete(region);
  });

  // --- live regions that survive a failed poll ---
  // htmx 4 swaps error answers too: a 500 would replace a region by the error page, and with it its poll.
  // So a failed poll (error status, network error, timeout) swaps nothing and the region waits 1, 2, 4 …
  // up to 30 s between attempts (counted from the failed attempt's start); any answer below 400 (a 304
  // too) brings it back to its normal pace. A swap brings a new region element, which starts afresh.
  var LIVE_TIMEOUT = "10s", LIVE_MAX_DELAY_MS = 30000, LIVE_TICK_SLACK_MS = 250;
  var liveStarted = new WeakMap(), liveRetries = new WeakMap();  // region -> start time; {failures, retryAt}
  var livePolling = new WeakSet();  // regions with a poll on its way

  function liveRegionOf(event) {
    var region = event.detail.ctx && event.detail.ctx.sourceElement;
    return region && region.dataset && region.dataset.liveEtag !== undefined ? region : null;
  }

  function liveRetryDelay(failures) { return Math.min(1000 * Math.pow(2, failures - 1), LIVE_MAX_DELAY_MS); }

  function liveWaiting(region) {
    var retry = liveRetries.get(region);
    return !!retry && Date.now() < retry.retryAt;
  }

  function liveFailed(region) {
    var failures = (liveRetries.get(region) || { failures: 0 }).failures + 1;
    var started = liveStarted.get(region) || Date.now();
    // The poll ticks every second: the slack lets a retry due "in 2 s" go on the second tick, not the third.
    liveRetries.set(region, { failures: failures, retryAt: started + liveRetryDelay(failures) - LIVE_TICK_SLACK_MS });
  }

  document.addEventListener("htmx:after:request", function (event) {
    var region = liveRegionOf(event);
    if (!region) return;
    if (event.detail.ctx.response.status < 400) { liveRetries.delete(region); return; }
    liveFailed(region);
    event.preventDefault();  // keep the region and its poll rather than the error page
  });
  document.addEventListener("htmx:error", function (event) {
    var region = liveRegionOf(event);
    if (region) liveFailed(region);
  });

  // --- base64url (passkeys.js, push.js) ---
  function toBytes(value) {
    var text = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
  }
  function fromBytes(buffer) {
    var text = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // POST JSON (or a FormData) with the CSRF token; resolves with the answer's JSON, rejects with the server's
  // message. options.keepalive: the request survives the page being closed (push's sign-out).
  async function postJSON(url, body, options) {
    var init = { method: "POST", credentials: "same-origin", keepalive: !!(options && options.keepalive),
                 headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" } };
    if (body instanceof FormData) { init.body = body; } else { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body || {}); }
    var response = await fetch(url, init);
    var data = await response.json().catch(function () { return {}; });
    if (!response.ok) { var error = new Error(data.error || response.statusText); error.field = data.field; error.fromServer = true; throw error; }
    return data;
  }

  // --- the kept copy shown offline ---
  function showingKeptCopy() { return !!document.querySelector("[data-offline-banner]:not([hidden])"); }

  // A live region does not read out what it held when the page loaded: put the banner's text in again.
  function announceKeptCopy() {
    var banner = document.querySelector("[data-offline-banner]:not([hidden]):not([data-announced])");
    if (!banner) return;
    banner.setAttribute("data-announced", "");
    var nodes = Array.prototype.slice.call(banner.childNodes);
    banner.replaceChildren();
    setTimeout(function () { banner.replaceChildren.apply(banner, nodes); }, 100);
  }

  // Back online: a kept copy or the offline page is replaced by the real page. "online" only says a
  // network is up (and fires spuriously while a navigation starts), so reload once the server answers.
  // One reload, however many "online" events come before it starts.
  var reloadingForNetwork = false;
  window.addEventListener("online", function () {
    if (reloadingForNetwork || (!showingKeptCopy() && !document.querySelector("[data-offline-page]"))) return;
    fetch(document.querySelector('link[rel="manifest"]').href, { method: "HEAD", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || reloadingForNetwork) return;
        reloadingForNetwork = true;
        window.location.reload();
      }, function () {});
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-reload-button]")) { window.location.reload(); return; }
    var copy = event.target.closest("[data-copy-target]");
    if (copy && navigator.clipboard) navigator.clipboard.writeText(document.getElementById(copy.dataset.copyTarget).value);
  });

  document.addEventListener("DOMContentLoaded", announceKeptCopy);
  // A boosted navigation or a live region swaps content without a new DOMContentLoaded.
  document.addEventListener("htmx:after:settle", announceKeptCopy);

  // What the other page scripts use (votes.js, passkeys.js, receipts.js, push.js): they run after this one.
  window.teambudget = { csrfToken: csrfToken, postJSON: postJSON, bytesOfBase64url: toBytes, base64urlOfBytes: fromBytes,
                        pausePollingWhile: function (paused) { pauses.push(paused); } };
})();
