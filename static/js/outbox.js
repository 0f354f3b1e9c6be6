/* Teambudget's outbox: drafts, votes, comments and receipt photos that wait on this phone until they reach
   the server.
   Loaded by every page (layout.html) and by the service worker (importScripts in static/sw.js).
   - Every item is stored in IndexedDB with a UUID (newId) before it is first sent, and sent
     with that UUID in the Teambudget-Operation header every time: the server applies it once and answers
     a replay with the stored answer (web/outbox.py). A receipt photo (a Blob, stored as it is) goes as
     multipart with its UUID as "client_id", which the receipts endpoint keeps once (web/receipts.py).
     Nothing leaves the outbox except by an answer that says it took effect, or by the worker discarding it.
   - Items belong to a member: each carries the owner tag of the page that queued it (<meta name=
     "outbox-owner">). Only items whose tag is the one /uitbak/sleutel answers are sent; on a shared phone
     the others wait, marked "van een ander account", until their member signs in or they are discarded.
   - The request form (data-outbox-autosave) is saved at every change and restored when it opens again.
   - Sending: at once when queued, on app start, on the "online" event, and by Background Sync ("outbox")
     in the worker. One run at a time (navigator.locks, else a lease in IndexedDB).
   - A refusal (decided meanwhile, a rule, no access any more, the UUID reused) stays on the item as a
     conflict until the worker edits or discards it; a session that ended marks the items "sign in again".
   - Signing out deletes the database (static/js/app.js asks first when items are pending). */
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

  function notify() {
    if (channel) channel.postMessage("changed");
    if (scope.document) refreshViews();
  }

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
    if (item.blob) {  // a photo: the receipts endpoint keeps one receipt per client_id (one mechanism, not both)
      body.set("client_id", item.id);
      body.append("photo", item.blob, item.fileName || "bonnetje.jpg");
    } else {
      headers[OPERATION_HEADER] = item.id;
    }
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
    await patchItem(item.id, { state: "conflict", message: data.error || "", field: data.field || null, status: response.status });
    return "conflict";
  }

  function askBackgroundSync() {
    if (!scope.navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(SYNC_TAG);
    }).catch(function () {});
  }

  // Queue an item (or update the form's own item, keeping its UUID) and try to send it now.
  // options: action, subject (what it is about, shown after its kind), formKey (the autosaved form's own
  // item), form (its fields not in the page now are kept), blob and fileName (a photo), id (a UUID already
  // used to send it), owner (default: this page's).
  async function queue(kind, url, fields, options) {
    options = options || {};
    if (scope.document) await saving;  // an autosave still being written goes first, then this takes over
    var owner = options.owner || currentOwner(), items = await allItems();
    var item = options.formKey && items.filter(function (it) { return it.formKey === options.formKey && it.owner === owner; })[0];
    if (item && options.form) fields = withKeptFields(options.form, fields, item.fields);
    item = Object.assign(item || { id: options.id || newId(), created: Date.now() }, {
      kind: kind, url: url, fields: fields, action: options.action || null, subject: options.subject || "",
      blob: options.blob || null, fileName: options.fileName || null, owner: owner,
      formKey: options.formKey || null, state: "waiting", message: "", status: null, updated: Date.now() });
    await putItem(item);  // stored, with its UUID, before the first attempt
    notify();
    if (navigator.onLine) await sync();
    var left = (await allItems()).filter(function (it) { return it.id === item.id; })[0];
    if (!left) return { state: "sent", result: results[item.id] || {} };
    if (PROBLEMS.indexOf(left.state) < 0) askBackgroundSync();
    var pending = left.state === "waiting" || left.state === "sending";
    return { state: left.state, message: pending ? texts().queued : messageOf(left), field: left.field };
  }

  // A receipt photo (static/js/receipts.js): the shrunk Blob waits here with the upload's other fields. A
  // client_id the page already sent it with becomes the item's UUID, so a send that did arrive is kept once.
  function queueUpload(blob, url, fields, options) {
    var values = {}, clientId = null;
    Object.keys(fields || {}).forEach(function (name) {
      var list = [].concat(fields[name]).map(String);
      if (name === "client_id") clientId = list[0]; else values[name] = list;
    });
    var id = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId || "") ? clientId.toLowerCase() : null;
    options = Object.assign({ subject: subjectOf(null, values, "receipt") }, options || {},
                            { blob: blob, id: id, fileName: blob.type === "image/jpeg" ? "bonnetje.jpg" : blob.name || "bonnetje" });
    return queue("receipt", new URL(url, location.href).href, values, options);
  }

  // Resolves when the database is gone, or could not be deleted (blocked, an error): signing out goes on.
  function deleteDatabase(name) {
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = request.onblocked = resolve;
    });
  }

  async function forget() {
    await deleteDatabase(DB_NAME);
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

  // The signed-in member's owner tag on this page (web/outbox.py owner_tag); none in the worker or the shell.
  function currentOwner() {
    var meta = scope.document && document.querySelector('meta[name="outbox-owner"]');
    return meta ? meta.content : "";
  }

  scope.teambudgetOutbox = { sync: sync, queue: queue, items: allItems, forget: forget, newId: newId,
                             deleteDatabase: deleteDatabase };
  if (scope.ServiceWorkerGlobalScope && scope instanceof ServiceWorkerGlobalScope) return;  // the worker only sends

  // --- the pages: texts, autosave, forms, the outbox page ---
  function texts() {
    var box = document.querySelector("[data-outbox-texts]");
    return box ? box.dataset : {};
  }

  function messageOf(item) {
    var t = texts();
    if (item.state === "signed_out") return t.signedOut;
    if (item.state === "other_account") return t.otherAccount;
    if (item.status === 403 || item.status === 404) return t.noAccess;
    if (item.message) return item.message;
    return { waiting: t.waiting, sending: t.sending, draft: t.draft, conflict: t.failed }[item.state] || "";
  }

  function formFields(form) {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || name === "action" || typeof value !== "string") return;
      (fields[name] = fields[name] || []).push(value);
    });
    return fields;
  }

  // Not form.action: the request form has buttons named "action", which that property returns instead.
  function actionOf(form) { return new URL(form.getAttribute("action") || location.href, location.href).href; }

  // Values of controls that are not in the form now (the alternatives of a cost category, which cannot be
  // fetched offline) are kept as stored: saving or sending the form never drops them.
  function withKeptFields(form, fields, stored) {
    Object.keys(stored || {}).forEach(function (name) {
      if (!(name in fields) && !form.querySelector('[name="' + CSS.escape(name) + '"]')) fields[name] = stored[name];
    });
    return fields;
  }

  function applyFields(form, fields, checkboxesOnly) {
    Array.prototype.forEach.call(form.elements, function (control) {
      if (!control.name || control.name === "csrf_token" || !(control.name in fields)) return;
      var values = fields[control.name];
      if (control.type === "checkbox" || control.type === "radio") control.checked = values.indexOf(control.value) >= 0;
      else if (!checkboxesOnly && control.type !== "submit") control.value = values[0];
    });
  }

  var saving = Promise.resolve(), restoringCategory = false;

  // Read and write in one transaction: a save that races a submit must not turn the item being sent
  // back into a draft (which would leave it unsent).
  function saveDraft(form) {
    saving = saving.then(function () {
      var key = location.pathname, owner = currentOwner(), fields = formFields(form);
      return inStore(ITEMS, "readwrite", async function (store) {
        var item = (await done(store.getAll())).filter(function (it) { return it.formKey === key && it.owner === owner; })[0];
        if (item && (item.state === "waiting" || item.state === "sending")) return;  // the sent copy stands
        item = item || { id: newId(), created: Date.now(), kind: form.dataset.outbox, url: actionOf(form),
                         formKey: key, owner: owner, state: "draft", action: null, message: "" };
        fields = withKeptFields(form, fields, item.fields);
        Object.assign(item, { fields: fields, subject: subjectOf(form, fields), updated: Date.now() });
        await done(store.put(item));
      });
    }).then(updateCount).catch(function () {});
    return saving;
  }

  async function restoreDraft(form, checkboxesOnly) {
    var owner = currentOwner();  // another member's draft on this phone is theirs, never shown here
    var item = (await allItems()).filter(function (it) { return it.formKey === location.pathname && it.owner === owner; })[0];
    // What the worker typed since the page opened wins over an older copy (the copy is being replaced).
    if (!item || (!checkboxesOnly && form.hasAttribute("data-outbox-typed"))) return;
    var select = form.querySelector("select[hx-get]"), before = select && select.value;
    applyFields(form, item.fields, checkboxesOnly);
    // The alternatives belong to the cost category: fetch them again for the restored one (online only),
    // then tick what was ticked (initAutosave, after htmx brought them).
    if (!checkboxesOnly && select && select.value !== before && scope.htmx) {
      form.setAttribute("data-outbox-restoring", "");
      restoringCategory = true;  // this change is the copy's own, not an edit: it must not be saved as one
      try { htmx.trigger(select, "change"); } finally { restoringCategory = false; }
    }
    if (!checkboxesOnly && PROBLEMS.indexOf(item.state) >= 0) showNotice(form, messageOf(item), "alert", item.field);
    else if (!checkboxesOnly && item.state === "waiting") showNotice(form, texts().queued, "status");
  }

  function initAutosave(root) {
    root.querySelectorAll("form[data-outbox-autosave]:not([data-outbox-ready])").forEach(function (form) {
      form.setAttribute("data-outbox-ready", "");
      restoreDraft(form, false);
      ["input", "change"].forEach(function (type) {
        form.addEventListener(type, function (event) {
          // Saving the restored copy again could revive, as a new draft, an item sent meanwhile.
          if (restoringCategory) return;
          if (event.isTrusted) form.setAttribute("data-outbox-typed", "");
          saveDraft(form);
        });
      });
    });
    // After htmx brought the alternatives of a restored category, tick again what the worker had ticked
    // (only then: after the worker chose a category, the boxes are theirs to tick).
    root.querySelectorAll("form[data-outbox-autosave][data-outbox-restoring]").forEach(function (form) {
      form.removeAttribute("data-outbox-restoring");
      restoreDraft(form, true);
    });
  }

  // What an item is about, stored with it: the typed amount and situation of a request, else the page's
  // heading. Its kind's word is added when it is shown, so the list speaks the language of that moment.
  function subjectOf(form, fields, kind) {
    kind = kind || form.dataset.outbox;
    if (kind === "request") {
      var amount = (fields.amount || [""])[0], situation = (fields.situation || [""])[0].slice(0, 60);
      return [amount && "€ " + amount, situation].filter(Boolean).join(" — ");
    }
    var heading = document.querySelector("h1");
    return heading ? heading.textContent.trim() : "";
  }

  // "Stem: € 75,00 · Boodschappen" in the page's language (items from before subjects were kept have a title).
  function titleOf(item) {
    var t = texts(), kind = { request: t.kindRequest, vote: t.kindVote, receipt: t.kindReceipt }[item.kind] || t.kindComment;
    if (!item.subject) return item.title || kind;
    return (t.titleOf || "{kind}: {subject}").replace("{kind}", kind).replace("{subject}", item.subject);
  }

  function showNotice(form, text, role, field) {
    var notice = form.parentNode.querySelector("[data-outbox-notice]");
    if (!notice) {
      notice = document.createElement("p");
      notice.setAttribute("data-outbox-notice", "");
      form.parentNode.insertBefore(notice, form);
    }
    notice.className = role === "alert" ? "field__error" : "notice";
    notice.setAttribute("role", role);
    notice.replaceChildren();
    // the server's or an earlier message beside a field makes way for this one
    form.querySelectorAll("[data-outbox-field-error], .field__error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    setTimeout(function () {  // filled after it is in the page, so screen readers announce it
      notice.textContent = text + " ";
      var link = document.createElement("a");
      link.href = texts().outboxUrl;
      link.textContent = texts().toOutbox;
      notice.appendChild(link);
    }, 50);
    var control = field && form.querySelector('[name="' + field + '"]');
    if (control) {
      var error = document.createElement("p");
      error.className = "field__error";
      error.id = field + "-error";
      error.setAttribute("data-outbox-field-error", "");
      error.textContent = text;
      control.parentNode.insertBefore(error, control);
      control.setAttribute("aria-invalid", "true");
      var hints = (control.getAttribute("aria-describedby") || "").split(" ").filter(function (id) { return id && !/-error$/.test(id); });
      control.setAttribute("aria-describedby", [error.id].concat(hints).join(" "));
      control.focus();
    }
  }

  // Every submit of an outbox form goes through the outbox, online or not: one path, one UUID.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-outbox]");
    if (!form || !window.crypto || !window.indexedDB) return;
    event.preventDefault();
    event.stopPropagation();
    var submitter = event.submitter, fields = formFields(form);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) { button.disabled = true; });
    var autosaved = form.hasAttribute("data-outbox-autosave");
    queue(form.dataset.outbox, actionOf(form), fields, {
      action: submitter && submitter.name === "action" ? submitter.value : null, subject: subjectOf(form, fields),
      formKey: autosaved ? location.pathname : null, form: autosaved ? form : null,
    }).then(function (outcome) {
      if (outcome.state === "sent") { location.assign(outcome.result.redirect || location.href); return; }
      var problem = PROBLEMS.indexOf(outcome.state) >= 0;
      showNotice(form, problem ? outcome.message : texts().queued, problem ? "alert" : "status", outcome.field);
      if (!autosaved && outcome.state !== "conflict") form.reset();
    }).finally(function () {
      buttons.forEach(function (button) { button.disabled = false; });
    });
  }, true);

  // --- what the worker sees: the count in the header, the outbox page ---
  async function updateCount() {
    var links = document.querySelectorAll("[data-outbox-count]");
    if (!links.length) return;
    var count = (await allItems()).length;
    links.forEach(function (el) { el.textContent = count ? "(" + count + ")" : ""; });
  }

  async function renderOutboxPage() {
    var list = document.querySelector("[data-outbox-list]");
    if (!list) return;
    var items = await allItems(), template = document.querySelector("template[data-outbox-item]"), t = texts();
    list.replaceChildren.apply(list, items.map(function (item) {
      var row = template.content.firstElementChild.cloneNode(true);
      row.dataset.itemId = item.id;
      row.dataset.itemState = item.state;
      row.querySelector("[data-item-title]").textContent = titleOf(item);
      row.querySelector("[data-item-state]").textContent = t["state_" + item.state] || item.state;
      var problem = PROBLEMS.indexOf(item.state) >= 0 || item.message;
      var message = row.querySelector("[data-item-message]");
      message.hidden = !problem;
      message.textContent = problem ? messageOf(item) : "";
      var edit = row.querySelector("[data-item-edit]");
      edit.hidden = !item.formKey;
      if (item.formKey) edit.href = item.formKey;
      if (item.blob) showThumbnail(row.querySelector("[data-item-thumb]"), item.blob);
      return row;
    }));
    document.querySelector("[data-outbox-empty]").hidden = items.length > 0;
  }

  // A data: URL, not a blob: one, which the page's CSP does not allow for images.
  function showThumbnail(img, blob) {
    var reader = new FileReader();
    img.onerror = function () { img.hidden = true; };  // not a picture this browser can show (HEIC)
    reader.onload = function () { img.src = reader.result; img.hidden = false; };
    reader.readAsDataURL(blob);
  }

  // A card whose vote waits here must not look unvoted (a kept copy of the inbox, offline): say so instead
  // of offering the vote again; once the vote is sent the live inbox shows it.
  async function markQueuedVotes() {
    var cards = document.querySelectorAll("[data-swipe-card][data-vote-url]");
    if (!cards.length) return;
    var owner = currentOwner(), waiting = {};
    (await allItems()).forEach(function (item) {
      if (item.kind === "vote" && item.owner === owner) waiting[new URL(item.url, location.href).href] = true;
    });
    cards.forEach(function (card) { markCard(card, !!waiting[new URL(card.dataset.voteUrl, location.href).href]); });
  }

  function markCard(card, queued) {
    if (queued === card.hasAttribute("data-vote-queued")) return;
    card.toggleAttribute("data-vote-queued", queued);
    card.querySelectorAll("[data-swipe-action], .request-card__hint").forEach(function (el) { el.hidden = queued; });
    var note = card.querySelector("[data-vote-queued-note]");
    if (!queued) { if (note) note.remove(); return; }
    note = document.createElement("p");
    note.className = "notice";
    note.setAttribute("data-vote-queued-note", "");
    note.textContent = texts().voteWaits + " ";
    var link = document.createElement("a");
    link.href = texts().outboxUrl;
    link.textContent = texts().toOutbox;
    note.appendChild(link);
    card.appendChild(note);
  }

  function refreshViews() {
    updateCount();
    renderOutboxPage();
    markQueuedVotes();
  }

  document.addEventListener("click", function (event) {
    var discard = event.target.closest("[data-item-discard]");
    if (discard) {
      if (!window.confirm(texts().confirmDiscard)) return;
      deleteItem(discard.closest("[data-item-id]").dataset.itemId).then(notify);
      return;
    }
    if (event.target.closest("[data-outbox-send]")) sync().then(notify);
  });

  // How many items would be lost by signing out, and whether the worker still wants to (app.js asks).
  async function confirmSignOut() {
    var count = (await allItems().catch(function () { return []; })).length;
    if (!count) return true;
    var t = texts();
    return window.confirm((count === 1 ? t.signOutOne : t.signOutMany).replace("{count}", count));
  }
  scope.teambudgetOutbox.confirmSignOut = confirmSignOut;
  scope.teambudgetOutbox.queueUpload = queueUpload;
  scope.teambudgetOutbox.texts = texts;

  if (channel) channel.onmessage = refreshViews;
  window.addEventListener("online", function () { sync(); });
  document.addEventListener("DOMContentLoaded", function () {
    initAutosave(document);
    refreshViews();
    if (navigator.onLine) sync();  // app start: send what an earlier visit left behind
  });
  document.addEventListener("htmx:after:settle", function () {
    initAutosave(document);
    refreshViews();
  });
})(self);
