/* Teambudget's outbox: drafts, votes and comments that wait on this phone until they reach the server.
   Loaded by every page (layout.html) and by the service worker (importScripts in static/sw.js).
   - Every item is stored in IndexedDB with a UUID (crypto.randomUUID) before it is first sent, and sent
     with that UUID in the Teambudget-Operation header every time: the server applies it once and answers
     a replay with the stored answer (web/outbox.py). Nothing leaves the outbox except by an answer that
     says it took effect, or by the worker discarding it.
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
  var SENDABLE = ["waiting", "sending", "signed_out"];  // "sending" left behind by a page that closed mid-way
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

  function sync() { return oneAtATime(sendAll).catch(function () {}); }

  async function freshToken() {
    var response;
    try {
      response = await fetch(TOKEN_URL, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } });
    } catch (error) {
      return null;  // offline
    }
    var data = await response.json().catch(function () { return {}; });
    if (response.status === 401) return { signedOut: true, message: data.error || "" };
    return response.ok ? { token: data.csrf_token } : null;
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
      var outcome = await sendItem(item, credentials);
      notify();
      if (outcome === "offline" || outcome === "later") return;
    }
  }

  async function markSignedOut(message) {
    var items = (await allItems()).filter(function (it) { return SENDABLE.indexOf(it.state) >= 0; });
    for (var i = 0; i < items.length; i++) await patchItem(items[i].id, { state: "signed_out", message: message, status: 401 });
    notify();
  }

  function post(item, token) {
    var body = new URLSearchParams();
    Object.keys(item.fields).forEach(function (name) {
      item.fields[name].forEach(function (value) { body.append(name, value); });
    });
    if (item.action) body.append("action", item.action);
    body.append("csrf_token", token);
    var headers = { "Accept": "application/json", "X-CSRFToken": token };
    headers[OPERATION_HEADER] = item.id;
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
  async function queue(kind, url, fields, options) {
    options = options || {};
    if (scope.document) await saving;  // an autosave still being written goes first, then this takes over
    var items = await allItems();
    var item = options.formKey && items.filter(function (it) { return it.formKey === options.formKey; })[0];
    item = Object.assign(item || { id: crypto.randomUUID(), created: Date.now() }, {
      kind: kind, url: url, fields: fields, action: options.action || null, title: options.title || "",
      formKey: options.formKey || null, state: "waiting", message: "", status: null, updated: Date.now() });
    await putItem(item);  // stored, with its UUID, before the first attempt
    notify();
    if (navigator.onLine) await sync();
    var left = (await allItems()).filter(function (it) { return it.id === item.id; })[0];
    if (!left) return { state: "sent", result: results[item.id] || {} };
    if (left.state !== "conflict" && left.state !== "signed_out") askBackgroundSync();
    var pending = left.state === "waiting" || left.state === "sending";
    return { state: left.state, message: pending ? texts().queued : messageOf(left), field: left.field };
  }

  async function forget() {
    await new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = resolve;
    });
  }

  scope.teambudgetOutbox = { sync: sync, queue: queue, items: allItems, forget: forget };
  if (scope.ServiceWorkerGlobalScope && scope instanceof ServiceWorkerGlobalScope) return;  // the worker only sends

  // --- the pages: texts, autosave, forms, the outbox page ---
  function texts() {
    var box = document.querySelector("[data-outbox-texts]");
    return box ? box.dataset : {};
  }

  function messageOf(item) {
    var t = texts();
    if (item.state === "signed_out") return t.signedOut;
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

  function applyFields(form, fields, checkboxesOnly) {
    Array.prototype.forEach.call(form.elements, function (control) {
      if (!control.name || control.name === "csrf_token" || !(control.name in fields)) return;
      var values = fields[control.name];
      if (control.type === "checkbox" || control.type === "radio") control.checked = values.indexOf(control.value) >= 0;
      else if (!checkboxesOnly && control.type !== "submit") control.value = values[0];
    });
  }

  var saving = Promise.resolve();

  // Read and write in one transaction: a save that races a submit must not turn the item being sent
  // back into a draft (which would leave it unsent).
  function saveDraft(form) {
    saving = saving.then(function () {
      var key = location.pathname, fields = formFields(form);
      return inStore(ITEMS, "readwrite", async function (store) {
        var item = (await done(store.getAll())).filter(function (it) { return it.formKey === key; })[0];
        if (item && (item.state === "waiting" || item.state === "sending")) return;  // the sent copy stands
        item = item || { id: crypto.randomUUID(), created: Date.now(), kind: form.dataset.outbox, url: actionOf(form),
                         formKey: key, state: "draft", action: null, message: "" };
        Object.assign(item, { fields: fields, title: titleOf(form, fields), updated: Date.now() });
        await done(store.put(item));
      });
    }).then(updateCount).catch(function () {});
    return saving;
  }

  async function restoreDraft(form, checkboxesOnly) {
    var item = (await allItems()).filter(function (it) { return it.formKey === location.pathname; })[0];
    // What the worker typed since the page opened wins over an older copy (the copy is being replaced).
    if (!item || (!checkboxesOnly && form.hasAttribute("data-outbox-typed"))) return;
    var select = form.querySelector("select[hx-get]"), before = select && select.value;
    applyFields(form, item.fields, checkboxesOnly);
    // The alternatives belong to the cost category: fetch them again for the restored one (online only),
    // then tick what was ticked (initAutosave, after htmx brought them).
    if (!checkboxesOnly && select && select.value !== before && scope.htmx) {
      form.setAttribute("data-outbox-restoring", "");
      htmx.trigger(select, "change");
    }
    if (!checkboxesOnly && (item.state === "conflict" || item.state === "signed_out")) showNotice(form, messageOf(item), "alert", item.field);
    else if (!checkboxesOnly && item.state === "waiting") showNotice(form, texts().queued, "status");
  }

  function initAutosave(root) {
    root.querySelectorAll("form[data-outbox-autosave]:not([data-outbox-ready])").forEach(function (form) {
      form.setAttribute("data-outbox-ready", "");
      restoreDraft(form, false);
      ["input", "change"].forEach(function (type) {
        form.addEventListener(type, function (event) {
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

  function titleOf(form, fields) {
    var t = texts(), heading = document.querySelector("h1");
    if (form.dataset.outbox === "request") {
      var situation = (fields.situation || [""])[0];
      return t.kindRequest + ((fields.amount || [""])[0] ? ": € " + fields.amount[0] : "")
        + (situation ? " — " + situation.slice(0, 60) : "");
    }
    var what = form.dataset.outbox === "vote" ? t.kindVote : t.kindComment;
    return what + (heading ? ": " + heading.textContent.trim() : "");
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
    if (!form || !window.crypto || !crypto.randomUUID || !window.indexedDB) return;
    event.preventDefault();
    event.stopPropagation();
    var submitter = event.submitter, fields = formFields(form);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) { button.disabled = true; });
    queue(form.dataset.outbox, actionOf(form), fields, {
      action: submitter && submitter.name === "action" ? submitter.value : null, title: titleOf(form, fields),
      formKey: form.hasAttribute("data-outbox-autosave") ? location.pathname : null,
    }).then(function (outcome) {
      if (outcome.state === "sent") { location.assign(outcome.result.redirect || location.href); return; }
      showNotice(form, outcome.state === "conflict" || outcome.state === "signed_out" ? outcome.message : texts().queued,
                 outcome.state === "conflict" || outcome.state === "signed_out" ? "alert" : "status", outcome.field);
      if (!form.hasAttribute("data-outbox-autosave") && outcome.state !== "conflict") form.reset();
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
      row.querySelector("[data-item-title]").textContent = item.title || t.kindRequest;
      row.querySelector("[data-item-state]").textContent = t["state_" + item.state] || item.state;
      var problem = item.state === "conflict" || item.state === "signed_out" || item.message;
      var message = row.querySelector("[data-item-message]");
      message.hidden = !problem;
      message.textContent = problem ? messageOf(item) : "";
      var edit = row.querySelector("[data-item-edit]");
      edit.hidden = !item.formKey;
      if (item.formKey) edit.href = item.formKey;
      return row;
    }));
    document.querySelector("[data-outbox-empty]").hidden = items.length > 0;
  }

  function refreshViews() {
    updateCount();
    renderOutboxPage();
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
