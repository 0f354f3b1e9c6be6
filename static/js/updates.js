/* The service worker (static/sw.js) from the page's side: registering it, offering its updates, installing.
   - Registered on every page (the layout's script names it: data-worker-url).
   - A new version waits until the member taps "new version" (data-update-bar), so old JavaScript never runs
     against new HTML; only that tap makes the page reload when the new worker takes over. On first install
     the worker takes over silently.
   - The browser's install prompt is kept and offered with our own button (data-install-button). */
(function () {
  "use strict";

  // Read now: document.currentScript is only set while this (joined) script first runs.
  var workerUrl = document.currentScript && document.currentScript.dataset.workerUrl;
  var waitingWorker = null, updateAccepted = false, installPrompt = null;

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

  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();  // offer installing with our own button, where the member expects it
    installPrompt = event;
    showShellButtons();
  });
  window.addEventListener("appinstalled", function () {
    installPrompt = null;
    showShellButtons();
  });

  document.addEventListener("click", function (event) {
    if (waitingWorker && event.target.closest("[data-update-button]")) {
      updateAccepted = true;
      waitingWorker.postMessage("skip-waiting");
      return;
    }
    if (installPrompt && event.target.closest("[data-install-button]")) {
      installPrompt.prompt();
      installPrompt = null;
      showShellButtons();
    }
  });
  document.addEventListener("htmx:after:settle", showShellButtons);

  registerWorker();
})();
