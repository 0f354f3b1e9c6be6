/* Receipt photos (templates/requests/_receipts.html): shrunk in the browser, sent with a progress bar.
   - Choosing photos (or pressing the button) sends each one on its own: drawn onto a canvas at most
     MAX_SIDE px on its longest side (EXIF orientation applied) and sent as a JPEG; a canvas carries no
     EXIF or GPS. A photo this browser cannot draw (HEIC on Chromium) goes as it is; the server converts it.
   - Each photo gets a UUID before it is first sent, and goes with it in the Teambudget-Operation header,
     as every outbox item does: the server applies it once (web/outbox.py).
   - The server answers with the receipts partial, which replaces the section (thumbnail, or the message).
   - Offline, or when the network fails during a send: queueReceiptUpload() hands the shrunk photo to the
     outbox (static/js/outbox-page.js) under the same UUID; it keeps it in IndexedDB and sends it once back
     online like every other item, so a send that did arrive (its answer lost) is not stored again.
     Online photos go straight away, with the progress bar.
   Without JavaScript the form posts the original photos; the server shrinks them the same way. */
(function () {
  "use strict";

  var MAX_SIDE = 1600, QUALITY = 0.85;

  var csrfToken = function () { return window.teambudget.csrfToken(); };  // static/js/app.js

  // The photo as a JPEG Blob, longest side at most MAX_SIDE; the file itself when it cannot be drawn.
  async function shrink(file) {
    var bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      return file;
    }
    var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    if (bitmap.close) bitmap.close();
    return new Promise(function (resolve) {
      canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", QUALITY);
    });
  }

  // Hand the Blob, the URL to POST it to (as field "photo") and the UUID it was (or would have been) sent
  // with to the outbox, which keeps that UUID, so a send that did arrive is kept once. Resolves with the
  // outbox's outcome ({state, message, result}), or null when this browser has no outbox.
  async function queueReceiptUpload(blob, url, operationId) {
    var outbox = window.teambudgetOutbox;
    if (!outbox || typeof outbox.queueUpload !== "function" || !window.indexedDB) return null;
    return outbox.queueUpload(blob, url, {}, { id: operationId });
  }

  // Say what became of a photo handed to the outbox; true when the form may go on with the next photo.
  function afterQueued(form, outcome) {
    if (!outcome) { say(form, form.dataset.msgNetwork); return false; }
    if (outcome.state === "sent") {  // the network was back already: show the page with the new receipt
      var target = new URL(outcome.result.redirect || location.href, location.href);
      if (target.pathname === location.pathname) location.reload(); else location.assign(target.href);
      return false;
    }
    say(form, outcome.state === "waiting" || outcome.state === "sending" ? form.dataset.msgQueued : outcome.message);
    return true;
  }

  // POST one photo; resolves with {status, html}; rejects with a TypeError when the network fails.
  function send(url, blob, operationId, onProgress) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      data.append("csrf_token", csrfToken());
      data.append("photo", blob, blob.type === "image/jpeg" ? "bonnetje.jpg" : (blob.name || "bonnetje"));
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader(window.teambudgetOutbox.OPERATION_HEADER, operationId);
      xhr.setRequestHeader("HX-Request", "true");
      xhr.setRequestHeader("HX-Request-Type", "partial");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", function () { resolve({ status: xhr.status, html: xhr.responseText }); });
      xhr.addEventListener("error", function () { reject(new TypeError("network")); });
      xhr.send(data);
    });
  }

  // Put the server's receipts partial in place of the section; returns the new section.
  function replacePanel(html) {
    var current = document.querySelector("[data-receipts]");
    var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-receipts]");
    if (!current || !fresh) return null;
    current.replaceWith(fresh);
    return fresh;
  }

  function say(form, text) {
    var status = form.querySelector("[data-receipt-status]");
    if (status) status.textContent = text;
  }

  function fill(template, num, total) {
    return template.replace("{num}", num).replace("{total}", total);
  }

  // The form is free again; a choice the outbox took is cleared, so it is not sent twice by the button.
  function ready(form, taken) {
    form.querySelector("[data-receipt-submit]").disabled = false;
    if (taken) form.querySelector("input[type=file]").value = "";
  }

  async function sendPhotos(form, files) {
    var messages = form.dataset, url = form.action, total = files.length, queueing = false;
    for (var i = 0; i < total; i++) {
      var progress = form.querySelector("[data-receipt-progress]"), bar = progress.querySelector("progress");
      form.querySelector("[data-receipt-submit]").disabled = true;
      say(form, fill(messages.msgShrinking, i + 1, total));
      var blob = await shrink(files[i]), operationId = window.teambudgetOutbox.newId();
      if (!navigator.onLine || queueing) {  // after a failed send the rest goes to the outbox too
        var taken = afterQueued(form, await queueReceiptUpload(blob, url, operationId));
        ready(form, taken);
        if (!taken) return;
        continue;
      }
      bar.value = 0;
      progress.hidden = false;
      say(form, fill(messages.msgSending, i + 1, total));
      var result;
      try {
        result = await send(url, blob, operationId, function (part) { bar.value = Math.round(part * 100); });
      } catch (error) {
        progress.hidden = true;
        queueing = afterQueued(form, await queueReceiptUpload(blob, url, operationId));
        ready(form, queueing);
        if (!queueing) return;
        continue;
      }
      var panel = replacePanel(result.html);
      if (!panel) {  // not our partial (an expired page, a server error): say so and let the member retry
        progress.hidden = true;
        form.querySelector("[data-receipt-submit]").disabled = false;
        say(form, messages.msgFailed);
        return;
      }
      form = panel.querySelector("[data-receipt-form]");
      if (result.status >= 400) {
        // the partial shows the message beside the field; autofocus does not act on swapped-in content,
        // so focus the field, which reads the message out through aria-describedby
        var refused = panel.querySelector('[aria-invalid="true"]');
        if (refused) refused.focus();
        return;
      }
      if (!form) return;
    }
  }

  document.addEventListener("change", function (event) {
    var input = event.target.closest("[data-receipt-form] input[type=file]");
    if (input && input.files.length) sendPhotos(input.form, Array.prototype.slice.call(input.files));
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-receipt-form]"), input = form && form.querySelector("input[type=file]");
    if (!input || !input.files.length) return;  // nothing chosen: the server says to choose a photo
    event.preventDefault();
    sendPhotos(form, Array.prototype.slice.call(input.files));
  });

  window.TeambudgetReceipts = { shrink: shrink, queueReceiptUpload: queueReceiptUpload };
})();
