/* Teambudget's glue: CSRF header for htmx, live regions, swipe votes with undo, passkey ceremonies,
   copy buttons. No framework.
   - Live regions (data-live-etag) poll every second and send If-None-Match; the server answers 304
     until the team changed. Polling pauses while a card is being swiped or a vote waits for its undo.
     A failed poll keeps the region as it was and retries with backoff (1, 2, 4 … 30 s).
   - Swipe cards (data-swipe-card): right approves, left rejects; the button twins do the same. The
     vote is sent only after the undo window has passed.
   - Passkey boxes (data-passkey="sign-in" | "register" | "add") name their options and verify URLs; the
     server does every check, this file only carries JSON back and forth.
   - The service worker (static/sw.js): registered on every page; a new version waits until the member
     taps "new version", so old JavaScript never runs against new HTML. A kept copy shown offline stops
     polling and reloads when the network is back. Signing out empties every cache first. */
(function () {
  "use strict";

  var workerUrl = document.currentScript && document.currentScript.dataset.workerUrl;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  var pendingVote = null;  // {card, choice, timer} while a swiped vote waits for its undo window
  var swiping = false;

  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail.ctx, etag = ctx.sourceElement && ctx.sourceElement.dataset.liveEtag;
    ctx.request.headers["X-CSRFToken"] = csrfToken();
    if (etag === undefined) return;
    if (swiping || pendingVote || showingKeptCopy() || liveWaiting(ctx.sourceElement)) { event.preventDefault(); return; }
    ctx.request.headers["If-None-Match"] = etag;
    ctx.request.timeout = LIVE_TIMEOUT;
    liveStarted.set(ctx.sourceElement, Date.now());
  });

  // --- live regions that survive a failed poll ---
  // htmx 4 swaps error answers too: a 500 would replace a region by the error page, and with it its poll.
  // So a failed poll (error status, network error, timeout) swaps nothing and the region waits 1, 2, 4 …
  // up to 30 s between attempts (counted from the failed attempt's start); any answer below 400 (a 304
  // too) brings it back to its normal pace. A swap brings a new region element, which starts afresh.
  var LIVE_TIMEOUT = "10s", LIVE_MAX_DELAY_MS = 30000, LIVE_TICK_SLACK_MS = 250;
  var liveStarted = new WeakMap(), liveRetries = new WeakMap();  // region -> start time; {failures, retryAt}

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

  // --- swipe votes with undo ---
  var UNDO_MS = 5000, SWIPE_THRESHOLD = 0.3;

  function undoBar() { return document.querySelector("[data-undo-bar]"); }

  function startVote(card, choice, doneText) {
    if (pendingVote) sendVote();  // one pending vote at a time: the earlier one goes now
    card.classList.add("request-card--gone");
    card.hidden = true;
    var bar = undoBar();
    bar.querySelector("[data-undo-text]").textContent = doneText;
    bar.hidden = false;
    bar.querySelector("[data-undo-button]").hidden = false;
    bar.querySelector("[data-undo-button]").focus();
    pendingVote = { card: card, choice: choice, timer: setTimeout(sendVote, UNDO_MS) };
  }

  function undoVote() {
    if (!pendingVote) return;
    clearTimeout(pendingVote.timer);
    var card = pendingVote.card;
    pendingVote = null;
    undoBar().hidden = true;
    card.hidden = false;
    card.classList.remove("request-card--gone");
    card.style.transform = "";
    var first = card.querySelector("[data-swipe-action]");
    if (first) first.focus();
  }

  async function sendVote() {
    var vote = pendingVote;
    if (!vote) return;
    clearTimeout(vote.timer);
    var body = new URLSearchParams({ choice: vote.choice, csrf_token: csrfToken() });
    try {
      if (window.teambudgetOutbox) {  // sent now, or kept on the phone until the network is back (outbox.js)
        var outcome = await window.teambudgetOutbox.queue("vote", vote.card.dataset.voteUrl, { choice: [vote.choice] },
          { subject: vote.card.querySelector(".card__title a").textContent.trim() });
        if (outcome.state === "sent") { undoBar().hidden = true; return; }
        if (outcome.state !== "waiting" && outcome.state !== "sending") throw new Error(outcome.message);
        // Queued: nothing left to undo here; the bar (role=status) says where the vote waits.
        showVoteOutcome(window.teambudgetOutbox.texts().voteQueued || outcome.message);
        return;
      }
      var response = await fetch(vote.card.dataset.voteUrl, { method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" } });
      if (!response.ok) {
        var outcome = await response.json().catch(function () { return {}; });
        throw new Error(outcome.error || response.statusText);
      }
      undoBar().hidden = true;
    } catch (error) {
      vote.card.hidden = false;
      vote.card.classList.remove("request-card--gone");
      vote.card.style.transform = "";
      showVoteOutcome(error.message);
    } finally {
      if (pendingVote === vote) pendingVote = null;
    }
  }

  function showVoteOutcome(text) {
    var bar = undoBar(), button = bar.querySelector("[data-undo-button]"), focused = document.activeElement === button;
    bar.querySelector("[data-undo-text]").textContent = text;
    button.hidden = true;
    if (focused) document.getElementById("main").focus();  // focus does not vanish with the button
  }

  function trackSwipe(card) {
    var startX = null, lastX = null;
    card.addEventListener("touchstart", function (event) {
      startX = lastX = event.touches[0].clientX;
      swiping = true;
    }, { passive: true });
    card.addEventListener("touchmove", function (event) {
      if (startX === null) return;
      lastX = event.touches[0].clientX;  // a synthetic touchend may carry no changedTouches
      card.style.transform = "translateX(" + (lastX - startX) + "px)";
    }, { passive: true });
    card.addEventListener("touchend", function () {
      var moved = (lastX - startX) / card.offsetWidth;
      startX = null;
      swiping = false;
      // a card whose vote waits in the outbox (outbox.js marks it) is not voted on again
      if (Math.abs(moved) < SWIPE_THRESHOLD || card.hasAttribute("data-vote-queued")) { card.style.transform = ""; return; }
      var button = card.querySelector('[data-swipe-action="' + (moved > 0 ? "approve" : "reject") + '"]');
      startVote(card, button.dataset.swipeAction, button.dataset.doneText);
    });
  }

  function initSwipeCards(root) {
    root.querySelectorAll("[data-swipe-card]:not([data-swipe-ready])").forEach(function (card) {
      card.setAttribute("data-swipe-ready", "");
      trackSwipe(card);
    });
  }

  // --- base64url, for browsers without the WebAuthn JSON helpers ---
  function toBytes(value) {
    var text = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
  }
  function fromBytes(buffer) {
    var text = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    var options = Object.assign({}, json, { challenge: toBytes(json.challenge), user: Object.assign({}, json.user, { id: toBytes(json.user.id) }) });
    options.excludeCredentials = (json.excludeCredentials || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
    return options;
  }
  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    var options = Object.assign({}, json, { challenge: toBytes(json.challenge) });
    options.allowCredentials = (json.allowCredentials || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
    return options;
  }
  function credentialJSON(credential) {
    if (credential.toJSON) return credential.toJSON();
    var response = credential.response, json = { id: credential.id, rawId: fromBytes(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(), response: { clientDataJSON: fromBytes(response.clientDataJSON) } };
    if (response.attestationObject) {
      json.response.attestationObject = fromBytes(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = fromBytes(response.authenticatorData);
      json.response.signature = fromBytes(response.signature);
      json.response.userHandle = response.userHandle ? fromBytes(response.userHandle) : null;
    }
    return json;
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

  function showError(box, error) {
    var messages = box.dataset, text = error.message;
    if (!error.fromServer) {
      if (error.name === "NotAllowedError" || error.name === "AbortError") text = messages.msgCancelled;
      else if (error.name === "InvalidStateError") text = messages.msgExists;
      else if (error instanceof TypeError) text = messages.msgNetwork;
    }
    var fieldError = error.field && box.querySelector('[data-field-error="' + error.field + '"]');
    var input = error.field && box.querySelector('[name="' + error.field + '"]');
    if (fieldError && input) { fieldError.textContent = text; input.setAttribute("aria-invalid", "true"); input.focus(); return; }
    box.querySelector("[data-passkey-error]").textContent = text;
  }

  function clearErrors(box) {
    box.querySelectorAll("[data-field-error], [data-passkey-error]").forEach(function (el) { el.textContent = ""; });
    box.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  var conditionalSignIn = null;  // AbortController of a pending passkey-autofill request

  async function signIn(box, mediation) {
    var options = requestOptions(await postJSON(box.dataset.optionsUrl));
    var request = { publicKey: options };
    if (mediation) {
      conditionalSignIn = new AbortController();
      request.mediation = mediation;
      request.signal = conditionalSignIn.signal;
    }
    var credential = await navigator.credentials.get(request);
    var result = await postJSON(box.dataset.verifyUrl, { credential: credentialJSON(credential), next: box.dataset.next || null });
    window.location.assign(result.redirect);
  }

  async function register(box) {
    var form = box.tagName === "FORM" ? new FormData(box) : undefined;
    var options = creationOptions(await postJSON(box.dataset.optionsUrl, form));
    var credential = await navigator.credentials.create({ publicKey: options });
    var result = await postJSON(box.dataset.verifyUrl, { credential: credentialJSON(credential) });
    window.location.assign(result.redirect);
  }

  async function startCeremony(box, button) {
    if (!window.PublicKeyCredential) { showError(box, { message: box.dataset.msgUnsupported, fromServer: true }); return; }
    if (conditionalSignIn) { conditionalSignIn.abort(); conditionalSignIn = null; }
    clearErrors(box);
    button.disabled = true;
    try {
      if (box.dataset.passkey === "sign-in") await signIn(box); else await register(box);
    } catch (error) {
      showError(box, error);
    } finally {
      button.disabled = false;
    }
  }

  async function offerPasskeyAutofill(root) {
    var box = root.querySelector('[data-passkey="sign-in"]');
    if (!box || !window.PublicKeyCredential || !PublicKeyCredential.isConditionalMediationAvailable) return;
    if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
    signIn(box, "conditional").catch(function (error) {
      if (error.name !== "AbortError") showError(box, error);
    });
  }

  // --- offline copies, updates and installing ---
  var waitingWorker = null, updateAccepted = false, installPrompt = null;

  function showingKeptCopy() { return !!document.querySelector("[data-offline-banner]:not([hidden])"); }

  function registerWorker() {
    if (!workerUrl || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(workerUrl, { scope: "/" }).then(watchForUpdates).catch(function () {});
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      if (updateAccepted) window.location.reload();  // on first install the worker takes over silently
    });
  }

  function watchForUpdates(registration) {
    if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
    registration.addEventListener("updatefound", function () {
      var worker = registration.installing;
      worker.addEventListener("statechange", function () {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(worker);
      });
    });
  }

  function offerUpdate(worker) {
    waitingWorker = worker;
    showShellButtons();
  }

  // Called again after a boosted navigation, which brings a new layout with both hidden.
  function showShellButtons() {
    document.querySelectorAll("[data-update-bar]").forEach(function (bar) { bar.hidden = !waitingWorker; });
    document.querySelectorAll("[data-install-button]").forEach(function (button) { button.hidden = !installPrompt; });
  }

  // A live region does not read out what it held when the page loaded: put the banner's text in again.
  function announceKeptCopy() {
    var banner = document.querySelector("[data-offline-banner]:not([hidden]):not([data-announced])");
    if (!banner) return;
    banner.setAttribute("data-announced", "");
    var nodes = Array.prototype.slice.call(banner.childNodes);
    banner.replaceChildren();
    setTimeout(function () { banner.replaceChildren.apply(banner, nodes); }, 100);
  }

  async function forgetTeamData() {
    if (window.teambudgetPush) await window.teambudgetPush.forget();  // static/js/push.js
    if (window.indexedDB && indexedDB.databases) {  // the outbox (unsent drafts, votes, comments) and any other
      var databases = await indexedDB.databases();
      await Promise.all(databases.map(function (database) { return window.teambudgetOutbox.deleteDatabase(database.name); }));
    }
    if (!window.caches) return;
    var names = await caches.keys();
    await Promise.all(names.map(function (name) { return caches.delete(name); }));
  }

  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();  // offer installing with our own button, where the member expects it
    installPrompt = event;
    showShellButtons();
  });
  window.addEventListener("appinstalled", function () {
    installPrompt = null;
    showShellButtons();
  });
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
    if (waitingWorker && event.target.closest("[data-update-button]")) {
      updateAccepted = true;
      waitingWorker.postMessage("skip-waiting");
      return;
    }
    if (event.target.closest("[data-reload-button]")) { window.location.reload(); return; }
    if (installPrompt && event.target.closest("[data-install-button]")) {
      installPrompt.prompt();
      installPrompt = null;
      showShellButtons();
      return;
    }
    var swipeButton = event.target.closest("[data-swipe-action]");
    if (swipeButton) { startVote(swipeButton.closest("[data-swipe-card]"), swipeButton.dataset.swipeAction, swipeButton.dataset.doneText); return; }
    if (event.target.closest("[data-undo-button]")) { undoVote(); return; }
    var button = event.target.closest("[data-passkey-start]");
    if (button && button.type !== "submit") { startCeremony(button.closest("[data-passkey]"), button); return; }
    var copy = event.target.closest("[data-copy-target]");
    if (copy && navigator.clipboard) navigator.clipboard.writeText(document.getElementById(copy.dataset.copyTarget).value);
  });

  // Signing out: the phone forgets the team's pages before the server forgets the session.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-sign-out]");
    if (!form || form.hasAttribute("data-forgotten")) return;
    event.preventDefault();
    // Unsent outbox items are lost by signing out: the worker may still cancel (outbox.js asks).
    var ask = window.teambudgetOutbox ? window.teambudgetOutbox.confirmSignOut() : Promise.resolve(true);
    ask.then(function (signOut) {
      if (!signOut) return;
      form.setAttribute("data-forgotten", "");
      forgetTeamData().finally(function () { form.submit(); });
    });
  });

  document.addEventListener("submit", function (event) {
    var box = event.target.closest("[data-passkey]");
    if (!box) return;
    event.preventDefault();
    event.stopPropagation();
    startCeremony(box, box.querySelector("[data-passkey-start]"));
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    offerPasskeyAutofill(document);
    initSwipeCards(document);
    announceKeptCopy();
  });
  // A boosted navigation or a live region swaps content without a new DOMContentLoaded.
  document.addEventListener("htmx:after:settle", function () {
    if (!conditionalSignIn) offerPasskeyAutofill(document);
    initSwipeCards(document);
    announceKeptCopy();
    showShellButtons();
  });
  // What receipts.js and push.js share with this file.
  window.teambudget = { csrfToken: csrfToken, postJSON: postJSON, bytesOfBase64url: toBytes };

  registerWorker();
  // Leaving the page sends a vote still waiting for its undo window rather than losing it.
  window.addEventListener("pagehide", function () { if (pendingVote) sendVote(); });
})();
