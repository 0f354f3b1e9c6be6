/* The outbox on the pages: queueing, the forms, the outbox page, the sign-out question. The store and the
   sending it shares with the service worker are in static/js/outbox.js (loaded first).
   - queue() stores an item with its UUID before it is first sent, then asks outbox.js to send it now; a
     photo (queueUpload, static/js/receipts.js) is an item with a Blob.
   - Items belong to a member: each carries the owner tag of the page that queued it (<meta name=
     "outbox-owner">); another member's drafts on this phone are never shown or restored here.
   - The request form (data-outbox-autosave) is saved at every change and restored when it opens again; its
     cost category's other provisions come from the page itself (showAlternatives), online or offline;
     every submit of a data-outbox form goes through queue(), online or not: one path, one UUID.
   - The outbox page (/uitbak) and the count in the header are drawn from IndexedDB at every change.
   - Signing out deletes the database: confirmSignOut() asks first when items are pending (signout.js). */
(function () {
  "use strict";

  var outbox = window.teambudgetOutbox, PROBLEMS = outbox.problems;

  function texts() {
    var box = document.querySelector("[data-outbox-texts]");
    return box ? box.dataset : {};
  }

  // The signed-in member's owner tag on this page (web/outbox.py owner_tag); none in the shell.
  function currentOwner() {
    var meta = document.querySelector('meta[name="outbox-owner"]');
    return meta ? meta.content : "";
  }

  function messageOf(item) {
    var t = texts();
    if (item.state === "signed_out") return t.signedOut;
    if (item.state === "other_account") return t.otherAccount;
    if (item.status === 403 || item.status === 404) return t.noAccess;
    if (item.message) return item.message;
    return { waiting: t.waiting, sending: t.sending, draft: t.draft, conflict: t.failed }[item.state] || "";
  }

  // "Bekijk wat nog verstuurd moet worden": the link after every notice that points to an item waiting here.
  function linkToOutbox() {
    var link = document.createElement("a");
    link.href = texts().outboxUrl;
    link.textContent = texts().toOutbox;
    return link;
  }

  // Queue an item (or update the form's own item, keeping its UUID) and try to send it now.
  // options: action, subject (what it is about, shown after its kind), formKey (the autosaved form's own
  // item), form (its fields not in the page now are kept), blob and fileName (a photo), id (a UUID already
  // used to send it), owner (default: this page's).
  async function queue(kind, url, fields, options) {
    options = options || {};
    await saving;  // an autosave still being written goes first, then this takes over
    var owner = options.owner || currentOwner(), items = await outbox.items();
    var item = options.formKey && items.filter(function (it) { return it.formKey === options.formKey && it.owner === owner; })[0];
    if (item && options.form) fields = withKeptFields(options.form, fields, item.fields);
    item = Object.assign(item || { id: options.id || outbox.newId(), created: Date.now() }, {
      kind: kind, url: url, fields: fields, action: options.action || null, subject: options.subject || "",
      blob: options.blob || null, fileName: options.fileName || null, owner: owner,
      formKey: options.formKey || null, state: "waiting", message: "", status: null, updated: Date.now() });
    await outbox.putItem(item);  // stored, with its UUID, before the first attempt
    outbox.notify();
    if (navigator.onLine) await outbox.sync();
    var left = (await outbox.items()).filter(function (it) { return it.id === item.id; })[0];
    if (!left) return { state: "sent", result: outbox.answerOf(item.id) || {} };
    if (PROBLEMS.indexOf(left.state) < 0) outbox.askBackgroundSync();
    var pending = left.state === "waiting" || left.state === "sending";
    return { state: left.state, message: pending ? texts().queued : messageOf(left), field: left.field,
             findings: left.findings };
  }

  // A receipt photo (static/js/receipts.js): the shrunk Blob waits here with the upload's other fields. The
  // UUID the page already sent it with (options.id) stays the item's, so a send that did arrive is kept once.
  function queueUpload(blob, url, fields, options) {
    var values = {};
    Object.keys(fields || {}).forEach(function (name) { values[name] = [].concat(fields[name]).map(String); });
    var given = (options && options.id) || "";
    var id = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(given) ? given.toLowerCase() : null;
    options = Object.assign({ subject: subjectOf(null, values, "receipt") }, options || {},
                            { blob: blob, id: id, fileName: blob.type === "image/jpeg" ? "bonnetje.jpg" : blob.name || "bonnetje" });
    return queue("receipt", new URL(url, location.href).href, values, options);
  }

  // --- the forms: autosave, restore, submit ---
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

  var saving = Promise.resolve();

  // The request form carries every cost category's other provisions in the page (templates/requests/form.html,
  // a <template data-alternatives-for> each): choosing a category shows its list from the page itself, so it
  // works offline from the cached page too. Boxes ticked before stay ticked when the new list has them.
  function showAlternatives(select) {
    var current = document.getElementById("alternatives");
    var source = document.querySelector('template[data-alternatives-for="' + CSS.escape(select.value) + '"]');
    if (!current || !source) return;
    var ticked = Array.prototype.map.call(current.querySelectorAll("input[type=checkbox]:checked"),
                                          function (box) { return box.value; });
    var fresh = source.content.firstElementChild.cloneNode(true);
    fresh.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = ticked.indexOf(box.value) >= 0; });
    current.replaceWith(fresh);
  }

  // Captured, so the list is in place before the form's autosave reads the fields.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-alternatives-select]")) showAlternatives(event.target);
  }, true);

  // Read and write in one transaction: a save that races a submit must not turn the item being sent
  // back into a draft (which would leave it unsent).
  function saveDraft(form) {
    saving = saving.then(function () {
      var key = location.pathname, owner = currentOwner(), fields = formFields(form);
      return outbox.inItems("readwrite", async function (store) {
        var item = (await outbox.done(store.getAll())).filter(function (it) { return it.formKey === key && it.owner === owner; })[0];
        if (item && (item.state === "waiting" || item.state === "sending")) return;  // the sent copy stands
        item = item || { id: outbox.newId(), created: Date.now(), kind: form.dataset.outbox, url: actionOf(form),
                         formKey: key, owner: owner, state: "draft", action: null, message: "" };
        fields = withKeptFields(form, fields, item.fields);
        Object.assign(item, { fields: fields, subject: subjectOf(form, fields), updated: Date.now() });
        await outbox.done(store.put(item));
      });
    }).then(updateCount).catch(function () {});
    return saving;
  }

  async function restoreDraft(form) {
    var owner = currentOwner();  // another member's draft on this phone is theirs, never shown here
    var item = (await outbox.items()).filter(function (it) { return it.formKey === location.pathname && it.owner === owner; })[0];
    // What the worker typed since the page opened wins over an older copy (the copy is being replaced).
    if (!item || form.hasAttribute("data-outbox-typed")) return;
    var select = form.querySelector("select[data-alternatives-select]"), before = select && select.value;
    applyFields(form, item.fields, false);
    // The alternatives belong to the cost category: show the restored one's list (from the page, so offline
    // too), then tick what was ticked. Not an edit: nothing is saved for it.
    if (select && select.value !== before) {
      showAlternatives(select);
      applyFields(form, item.fields, true);
    }
    if (PROBLEMS.indexOf(item.state) >= 0) showNotice(form, messageOf(item), "alert", item.field, item.findings);
    else if (item.state === "waiting") showNotice(form, texts().queued, "status");
  }

  function initAutosave(root) {
    root.querySelectorAll("form[data-outbox-autosave]:not([data-outbox-ready])").forEach(function (form) {
      form.setAttribute("data-outbox-ready", "");
      restoreDraft(form);
      ["input", "change"].forEach(function (type) {
        form.addEventListener(type, function (event) {
          if (event.isTrusted) form.setAttribute("data-outbox-typed", "");
          saveDraft(form);
        });
      });
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
    var t = texts(), kinds = { request: t.kindRequest, vote: t.kindVote, receipt: t.kindReceipt, loan: t.kindLoan,
                               review: t.kindReview };
    var kind = kinds[item.kind] || t.kindComment;
    if (!item.subject) return item.title || kind;
    return (t.titleOf || "{kind}: {subject}").replace("{kind}", kind).replace("{subject}", item.subject);
  }

  // A personal-data refusal (models/privacy.py): every finding marked in a copy of its field's text where
  // it stands, under the field, so one edit fixes them all. Built with text nodes: nothing typed becomes HTML.
  function markFindings(form, findings) {
    form.querySelectorAll("[data-privacy-marks]").forEach(function (el) { el.remove(); });
    var byField = {};
    (findings || []).forEach(function (finding) { (byField[finding.field] = byField[finding.field] || []).push(finding); });
    Object.keys(byField).forEach(function (name) {
      var control = form.querySelector('[name="' + CSS.escape(name) + '"]');
      if (!control) return;
      var text = control.value, marks = document.createElement("p"), position = 0;
      marks.className = "prose privacy-refusal__text";
      marks.setAttribute("data-privacy-marks", "");
      byField[name].forEach(function (finding) {
        if (text.slice(finding.start, finding.end) !== finding.fragment) return;  // edited since: nothing to mark
        marks.appendChild(document.createTextNode(text.slice(position, finding.start)));
        var mark = document.createElement("mark");
        mark.textContent = finding.fragment;
        marks.appendChild(mark);
        position = finding.end;
      });
      marks.appendChild(document.createTextNode(text.slice(position)));
      control.parentNode.insertBefore(marks, control.nextSibling);
    });
  }

  // role "alert" is a refusal: it says what to change here, and links to no outbox (nothing waits there).
  function showNotice(form, text, role, field, findings) {
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
      notice.textContent = text;
      if (role !== "alert") { notice.append(" "); notice.appendChild(linkToOutbox()); }
    }, 50);
    markFindings(form, findings);
    var names = [field].concat((findings || []).map(function (finding) { return finding.field; }));
    names.filter(function (name, index) { return name && names.indexOf(name) === index; }).forEach(function (name, index) {
      markInvalid(form.querySelector('[name="' + CSS.escape(name) + '"]'), name, text, index === 0);
    });
  }

  // The message beside a field (every field a refusal names), tied to it; the first one gets the focus.
  function markInvalid(control, field, text, focus) {
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
      if (focus) control.focus();
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
      showNotice(form, problem ? outcome.message : texts().queued, problem ? "alert" : "status", outcome.field,
                 problem ? outcome.findings : null);
      if (!autosaved && outcome.state !== "conflict") form.reset();
    }).finally(function () {
      buttons.forEach(function (button) { button.disabled = false; });
    });
  }, true);

  // --- what the worker sees: the count in the header, the outbox page ---
  async function updateCount() {
    var links = document.querySelectorAll("[data-outbox-count]");
    if (!links.length) return;
    var count = (await outbox.items()).length;
    links.forEach(function (el) { el.textContent = count ? "(" + count + ")" : ""; });
  }

  async function renderOutboxPage() {
    var list = document.querySelector("[data-outbox-list]");
    if (!list) return;
    var items = await outbox.items(), template = document.querySelector("template[data-outbox-item]"), t = texts();
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

  function refreshViews() {
    updateCount();
    renderOutboxPage();
  }

  document.addEventListener("click", function (event) {
    var discard = event.target.closest("[data-item-discard]");
    if (discard) {
      if (!window.confirm(texts().confirmDiscard)) return;
      outbox.deleteItem(discard.closest("[data-item-id]").dataset.itemId).then(outbox.notify);
      return;
    }
    if (event.target.closest("[data-outbox-send]")) outbox.sync().then(outbox.notify);
  });

  // How many items would be lost by signing out, and whether the worker still wants to (signout.js asks).
  async function confirmSignOut() {
    var count = (await outbox.items().catch(function () { return []; })).length;
    if (!count) return true;
    var t = texts();
    return window.confirm((count === 1 ? t.signOutOne : t.signOutMany).replace("{count}", count));
  }

  Object.assign(outbox, { queue: queue, queueUpload: queueUpload, confirmSignOut: confirmSignOut, texts: texts,
                          currentOwner: currentOwner, linkToOutbox: linkToOutbox });

  outbox.onChange(refreshViews);
  window.addEventListener("online", function () { outbox.sync(); });
  // A confirmation on a page just opened ("Verstuurd naar je team"): a live region's text is read out when it
  // changes, not when the page arrives with it, so it is put in again; a reload does not show it twice.
  function announce(root) {
    root.querySelectorAll("[data-announce]:not([data-announced])").forEach(function (region) {
      var text = region.textContent;
      region.setAttribute("data-announced", "");
      region.textContent = "";
      setTimeout(function () { region.textContent = text; }, 100);
    });
    if (root.querySelector("[data-announce]") && /[?&]verstuurd=/.test(location.search)) {
      var url = new URL(location.href);
      url.searchParams.delete("verstuurd");
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    announce(document);
    initAutosave(document);
    refreshViews();
    if (navigator.onLine) outbox.sync();  // app start: send what an earlier visit left behind
  });
  document.addEventListener("htmx:after:settle", function () {
    announce(document);
    initAutosave(document);
    refreshViews();
  });
})();
