/* Teambudget's outbox, the part the pages share with the service worker: the IndexedDB store of drafts,
   votes, comments and receipt photos that wait on this phone until they reach the server, and sending them.
   Loaded by every page (first of /scripts.js, web/pwa.py) and by the worker (importScripts in static/sw.js);
   what only pages do (queueing, the forms, the outbox page) is in static/js/outbox-page.js.
   - Every item is stored in IndexedDB with a UUID (newId) before it is first sent, and sent
     with that UUID in the Teambudget-Operation header every time: the server applies it once and answers
     a replay with the stored answer (web/outbox.py). A receipt photo (a Blob, stored as it is) goes the
     same way, as multipart (web/receipts.py).
     Nothing leaves the outbox except by an answer that says it took effect, or by the worker discarding it.
   - Items belong to a member: each carries the owner tag of the page that queued it. Only items whose tag
     is the one /uitbak/sleutel answers are sent; on a shared phone the others wait, marked "van een ander
     account", until their member signs in or they are discarded.
   - Item states: draft (the request form's autosave, never sent), waiting, sending, and the PROBLEMS that
     need the worker: conflict, signed_out, other_account.
   - Sending: at once when queued, on app start, on the "online" event, and by Background Sync ("outbox")
     in the worker. One run at a time (navigator.locks, else a lease in IndexedDB).
   - A refusal (decided meanwhile, a rule, no access any more, the UUID reused) stays on the item as a
     conflict until the worker edits or discards it; a session that ended marks the items "sign in again".
   - Signing out deletes the database (static/js/signout.js asks first when items are pending). */
(function (scope) {
  "use strict";

  var DB_NAME = "teambudget", DB_VERSION = 1, ITEMS = "outbox", META = "meta";
  var LOCK_NAME = "teambudget-outbox", LEASE_MS = 30000, SYNC_TAG = "outbox";
  var TOKEN_URL = "/uitbak/sleutel", OPERATION_HEADER = "Teambudget-Operation";
  // "sending": left behind by a page that closed mid-way; "other_account": sent once its member signs in
  var SENDABLE = ["waiting", "sending", "signed_out", "other_account"];
  var PROBLEMS = ["conflict", "signed_out", "other_account"];  // states that need the worker
  var results = {};  // answers of items this context sent, by UUID, for the page that queued them
  var channel = scope.BroadcastChannel ? new BroadcastChannel("teambudget-outbox") : null;

  // --- IndexedDB: one short connection per transaction, so deleting the database is never blocked ---
  function opened() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(ITEMS, { keyPath: "id" });
        request.result.createObjectStore(META, { keyPath: "key" });
      };
      request.onsuccess = function () {
        request.result.onversionchange = function () { request.result.close(); };
        resolve(request.result);
      };
      request.onerror = function () { reject(request.error); };
    });
  }
  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  async function inStore(name, mode, work) {
    var db = await opened();
    try {
      var transaction = db.transaction(name, mode);
      var finished = new Promise(function (resolve, reject) {
        transaction.oncomplete = resolve;
        transaction.onerror = transaction.onabort = function () { reject(transaction.error); };
      });
      var result = await work(transaction.objectStore(name));
      await finished;
      return result;
    } finally {
      db.close();
    }
  }
  // Reading never creates the database: after signing out, a page must not leave even an empty one.
  async function allItems() {
    if (indexedDB.databases && !(await indexedDB.databases()).some(function (d) { return d.name === DB_NAME; })) return [];
    var items = await inStore(ITEMS, "readonly", function (store) { return done(store.getAll()); });
    return items.sort(function (a, b) { return a.created - b.created; });
  }
  function putItem(item) { return inStore(ITEMS, "readwrite", function (store) { return done(store.put(item)); }); }
  function deleteItem(id) { return inStore(ITEMS, "readwrite", function (store) { return done(store.delete(id)); }); }
  // Change an item's state without overwriting what the worker typed meanwhile; gone (discarded) stays gone.
  function patchItem(id, patch) {
    return inStore(ITEMS, "readwrite", async function (store) {
      var item = await done(store.get(id));
      if (item) await done(store.put(Object.assign(item, patch, { updated: Date.now() })));
      return item;
    });
  }

  // Whoever draws items (static/js/outbox-page.js, votes.js) hears of every change: made here, or in another
  // page or the worker (through the channel, which does not echo a context's own messages).
  var listeners = [];
  function onChange(listener) { listeners.push(listener); }
  function notify() {
    if (channel) channel.postMessage("changed");
    listeners.forEach(function (listener) { listener(); });
  }
  if (channel) channel.onmessage = function () { listeners.forEach(function (listener) { listener(); }); };

  // --- sending ---
  function oneAtATime(run) {
    if (scope.navigator.locks) {
      return navigator.locks.request(LOCK_NAME, run);
    }
    var now = Date.now();
    return inStore(META, "readwrite", async function (store) {
      var lease = await done(store.get("lock"));
      if (lease && lease.until > now) return false;
      await done(store.put({ key: "lock", until: now + LEASE_MS }));
      return true;
    }).then(function (taken) {
      if (!taken) return null;
      return Promise.resolve().then(run).finally(function () {
        return inStore(META, "readwrite", function (store) { return done(store.delete("lock")); });
      });
    });
  }

  // Each finished run is counted on the page (<html data-outbox-runs>): a sign that nothing more is on its
  // way, for whoever must know that a run found nothing to send (the browser tests).
  var runs = 0;
  function sync() {
    return oneAtATime(sendAll).catch(function () {}).then(function () {
      runs += 1;
      if (scope.document) scope.document.documentElement.dataset.outboxRuns = String(runs);
    });
  }

  async function freshToken() {
    var response;
    try {
      response = await fetch(TOKEN_URL, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } });
    } catch (error) {
      return null;  // offline
    }
    var data = await response.json().catch(function () { return {}; });
    if (response.status === 401) return { signedOut: true, message: data.error || "" };
    return response.ok ? { token: data.csrf_token, owner: data.owner } : null;
  }

  async function sendAll() {
    var tried = {}, credentials = null;
    for (;;) {
      var item = (await allItems()).filter(function (it) { return SENDABLE.indexOf(it.state) >= 0 && !tried[it.id]; })[0];
      if (!item) return;
      tried[item.id] = true;
      credentials = credentials || await freshToken();
      if (!credentials) return;
      if (credentials.signedOut) { await markSignedOut(credentials.message); return; }
      if (item.owner !== credentials.owner) { await keepForItsOwner(item); continue; }  // never under another member
      var outcome = await sendItem(item, credentials);
      notify();
      if (outcome === "offline" || outcome === "later") return;
    }
  }

  async function keepForItsOwner(item) {
    if (item.state === "other_account") return;
    await patchItem(item.id, { state: "other_account", message: "", status: null });
    notify();
  }

  async function markSignedOut(message) {
    var items = (await allItems()).filter(function (it) { return SENDABLE.indexOf(it.state) >= 0; });
    for (var i = 0; i < items.length; i++) await patchItem(items[i].id, { state: "signed_out", message: message, status: 401 });
    notify();
  }

  function post(item, token) {
    var body = item.blob ? new FormData() : new URLSearchParams();
    Object.keys(item.fields).forEach(function (name) {
      item.fields[name].forEach(function (value) { body.append(name, value); });
    });
    if (item.action) body.append("action", item.action);
    body.append("csrf_token", token);
    var headers = { "Accept": "application/json", "X-CSRFToken": token };
    headers[OPERATION_HEADER] = item.id;  // every item alike, a photo too: the server applies it once
    if (item.blob) body.append("photo", item.blob, item.fileName || "bonnetje.jpg");
    return fetch(item.url, { method: "POST", body: body, headers: headers, credentials: "same-origin", redirect: "manual" });
  }

  async function sendItem(item, credentials) {
    await patchItem(item.id, { state: "sending", attempts: (item.attempts || 0) + 1 });
    notify();
    var response;
    try {
      response = await post(item, credentials.token);
      if (response.status === 400) {  // most likely an expired CSRF token: take a fresh one, once
        var fresh = await freshToken();
        if (fresh && fresh.token) { credentials.token = fresh.token; response = await post(item, fresh.token); }
      }
    } catch (error) {
      await patchItem(item.id, { state: "waiting" });
      return "offline";
    }
    if (response.type === "opaqueredirect" || response.status === 401) {
      await patchItem(item.id, { state: "signed_out", message: "", status: 401 });
      return "signed_out";
    }
    var data = await response.json().catch(function () { return {}; });
    if (response.ok) {
      results[item.id] = data;
      await deleteItem(item.id);
      return "sent";
    }
    if (response.status >= 500 || response.status === 429) {
      await patchItem(item.id, { state: "waiting", message: data.error || "", status: response.status });
      return "later";
    }
    // a personal-data refusal names every finding with its place (web/respond.py refusal_json)
    await patchItem(item.id, { state: "conflict", message: data.error || "", field: data.field || null,
                               findings: data.findings || null, status: response.status });
    return "conflict";
  }

  function askBackgroundSync() {
    if (!scope.navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(SYNC_TAG);
    }).catch(function () {});
  }

  // Resolves when the database is gone, or could not be deleted (blocked, an error): signing out goes on.
  function deleteDatabase(name) {
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = request.onblocked = resolve;
    });
  }

  // A random UUID (version 4): the operation id the server keeps each item's effect under. randomUUID is
  // missing outside secure contexts and in older browsers; getRandomValues is not.
  function newId() {
    if (scope.crypto.randomUUID) return scope.crypto.randomUUID();
    var bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // The worker uses sync; the pages also the rest (outbox-page.js adds queue, queueUpload, confirmSignOut).
  scope.teambudgetOutbox = {
    sync: sync, items: allItems, newId: newId, deleteDatabase: deleteDatabase,
    problems: PROBLEMS, putItem: putItem, deleteItem: deleteItem, done: done, notify: notify, onChange: onChange,
    askBackgroundSync: askBackgroundSync, OPERATION_HEADER: OPERATION_HEADER,
    inItems: function (mode, work) { return inStore(ITEMS, mode, work); },
    answerOf: function (id) { return results[id]; },
  };
})(self);
