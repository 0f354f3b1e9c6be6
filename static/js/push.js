/* Push notifications on this device: the switch on the account page (templates/push/_toggle.html).
   - On: ask permission, subscribe the service worker's PushManager with the server's VAPID key, and
     send the subscription (endpoint and keys, nothing else) to the server. Off: tell the server, then
     unsubscribe the browser.
   - Signing out unsubscribes the browser, so a shared phone stops receiving the team's notifications.
   The worker (static/sw.js) shows the messages and opens the request on a tap. */
(function () {
  "use strict";

  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

  // static/js/app.js: the CSRF-carrying POST and base64url decoding
  function postJSON(url, body) { return window.teambudget.postJSON(url, body, { keepalive: true }); }

  async function currentSubscription() {
    var registration = await navigator.serviceWorker.ready;
    return registration.pushManager.getSubscription();
  }

  async function switchOn(box) {
    if (await Notification.requestPermission() !== "granted") throw new Error("denied");
    var key = await (await fetch(box.dataset.keyUrl, { credentials: "same-origin" })).json();
    var registration = await navigator.serviceWorker.ready;
    var subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: window.teambudget.bytesOfBase64url(key.publicKey) });
    await postJSON(box.dataset.subscribeUrl, subscription.toJSON());
  }

  async function switchOff(box) {
    var subscription = await currentSubscription();
    if (!subscription) return;
    await postJSON(box.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }

  function show(box, on, message) {
    box.querySelector("[data-push-switch]").checked = on;
    box.querySelector("[data-push-status]").textContent = message || (on ? box.dataset.msgOn : box.dataset.msgOff);
  }

  async function change(box, toggle) {
    toggle.disabled = true;
    try {
      await (toggle.checked ? switchOn(box) : switchOff(box));
      show(box, toggle.checked);
    } catch (error) {
      var denied = error.message === "denied" || Notification.permission === "denied";
      show(box, !toggle.checked, denied ? box.dataset.msgDenied : box.dataset.msgFailed);
    } finally {
      toggle.disabled = false;
    }
  }

  function initBoxes(root) {
    if (!supported) return;
    root.querySelectorAll("[data-push-box]:not([data-push-ready])").forEach(function (box) {
      var toggle = box.querySelector("[data-push-switch]");
      box.dataset.pushReady = "";
      toggle.addEventListener("change", function () { change(box, toggle); });
      currentSubscription().then(function (subscription) {
        show(box, !!subscription && Notification.permission === "granted");
        toggle.disabled = false;
      });
    });
  }

  // Signing out (app.js, once the member confirmed): this device stops receiving this member's notifications.
  window.teambudgetPush = {
    forget: function () {
      if (!supported || !navigator.serviceWorker.controller) return Promise.resolve();
      return currentSubscription().then(function (subscription) { return subscription && subscription.unsubscribe(); })
        .catch(function () {});
    },
  };

  document.addEventListener("DOMContentLoaded", function () { initBoxes(document); });
  document.addEventListener("htmx:after:settle", function () { initBoxes(document); });
})();
