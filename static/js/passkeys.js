/* Passkey ceremonies: sign in, sign up and adding a passkey.
   - Passkey boxes (data-passkey="sign-in" | "register" | "add") name their options and verify URLs; the
     server does every check, this file only carries JSON back and forth (window.teambudget.postJSON).
   - The sign-in page also offers passkeys in the browser's autofill (conditional mediation), aborted as
     soon as a ceremony is started by hand.
   - Messages come from the box's data-msg-* attributes (templates/_passkey_messages.html); a server's
     message naming a field goes beside that field. */
(function () {
  "use strict";

  var postJSON = window.teambudget.postJSON;  // static/js/app.js
  var toBytes = window.teambudget.bytesOfBase64url, fromBytes = window.teambudget.base64urlOfBytes;

  // --- for browsers without the WebAuthn JSON helpers ---
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

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey-start]");
    if (button && button.type !== "submit") startCeremony(button.closest("[data-passkey]"), button);
  });

  document.addEventListener("submit", function (event) {
    var box = event.target.closest("[data-passkey]");
    if (!box) return;
    event.preventDefault();
    event.stopPropagation();
    startCeremony(box, box.querySelector("[data-passkey-start]"));
  }, true);

  document.addEventListener("DOMContentLoaded", function () { offerPasskeyAutofill(document); });
  // A boosted navigation swaps content without a new DOMContentLoaded.
  document.addEventListener("htmx:after:settle", function () {
    if (!conditionalSignIn) offerPasskeyAutofill(document);
  });
})();
