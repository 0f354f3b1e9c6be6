/* Receipt photos (templates/requests/_receipts.html): one big camera button, shrunk in the browser, sent at
   once with a progress bar.
   - The button ("Foto van het bonnetje maken") opens the camera through its hidden file input; choosing
     photos sends each one on its own, with no separate send button: drawn onto a canvas at most
     MAX_SIDE px on its longest side (EXIF orientation applied) and sent as a JPEG; a canvas carries no
     EXIF or GPS. A photo this browser cannot draw (HEIC on Chromium) goes as it is; the server converts it.
   - Each photo gets a UUID before it is first sent, and goes with it in the Teambudget-Operation header,
     as every outbox item does: the server applies it once (web/outbox.py).
   - The server answers with the receipts partial, which replaces the section (thumbnail, or the message).
   - Offline, or when the network fails during a send: queueReceiptUpload() hands the shrunk photo to the
     outbox (static/js/outbox-page.js) under the same UUID; it keeps it in IndexedDB and sends it once back
     online like every other item, so a send that did arrive (its answer lost) is not stored again.
     Online photos go straight away, with the progress bar.
   Without JavaScript the button stays hidden and the form's <noscript> input and send button post the
   original photos; the server shrinks them the same way. */
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

  // The camera button while a photo is on its way: disabled, so it is not chosen and sent twice.
  function busy(form, isBusy) {
    var button = form.querySelector("[data-receipt-camera]");
    if (button) button.disabled = isBusy;
  }

  // The form is free again; the chosen files are cleared, so choosing the same photo again sends it again.
  function ready(form) {
    busy(form, false);
    form.querySelector("[data-receipt-input]").value = "";
  }

  // Show the camera buttons (hidden without JavaScript, where the <noscript> input stands instead).
  function showCameraButtons(root) {
    root.querySelectorAll("[data-receipt-camera][hidden]").forEach(function (button) { button.hidden = false; });
  }

  async function sendPhotos(form, files) {
    var messages = form.dataset, url = form.action, total = files.length, queueing = false;
    for (var i = 0; i < total; i++) {
      var progress = form.querySelector("[data-receipt-progress]"), bar = progress.querySelector("progress");
      busy(form, true);
      say(form, fill(messages.msgShrinking, i + 1, total));
      var blob = await shrink(files[i]), operationId = window.teambudgetOutbox.newId();
      if (!navigator.onLine || queueing) {  // after a failed send the rest goes to the outbox too
        var taken = afterQueued(form, await queueReceiptUpload(blob, url, operationId));
        ready(form);
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
        ready(form);
        if (!queueing) return;
        continue;
      }
      var panel = replacePanel(result.html);
      if (!panel) {  // not our partial (an expired page, a server error): say so and let the member retry
        progress.hidden = true;
        ready(form);
        say(form, messages.msgFailed);
        return;
      }
      showCameraButtons(panel);
      form = panel.querySelector("[data-receipt-form]");
      if (result.status >= 400) {
        // the partial shows the message beside the field; autofocus does not act on swapped-in content,
        // so focus the field, which reads the message out through aria-describedby
        var refused = panel.querySelector('[aria-invalid="true"]') || panel.querySelector("[data-receipt-camera][aria-describedby]");
        if (refused) refused.focus();
        return;
      }
      if (!form) return;
    }
  }

  // The camera button opens the camera (or the photo picker) through its hidden input.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-receipt-camera]");
    if (button) button.form.querySelector("[data-receipt-input]").click();
  });

  // A chosen photo goes at once: no send button.
  document.addEventListener("change", function (event) {
    var input = event.target.closest("[data-receipt-input]");
    if (input && input.files.length) sendPhotos(input.form, Array.prototype.slice.call(input.files));
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { showCameraButtons(document); });
  } else {
    showCameraButtons(document);
  }
  document.addEventListener("htmx:after:settle", function () { showCameraButtons(document); });

  window.TeambudgetReceipts = { shrink: shrink, queueReceiptUpload: queueReceiptUpload };
})();
