/* Signing out: the phone forgets the team before the server forgets the session.
   - Unsent outbox items are lost by signing out: the member is asked first (outbox-page.js confirmSignOut)
     and may still cancel.
   - Then this device stops receiving the member's notifications (push.js), and every IndexedDB database
     (the outbox) and every cache (kept pages, the shell) is deleted; the form is sent even if that fails. */
(function () {
  "use strict";

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

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-sign-out]");
    if (!form || form.hasAttribute("data-forgotten")) return;
    event.preventDefault();
    var ask = window.teambudgetOutbox ? window.teambudgetOutbox.confirmSignOut() : Promise.resolve(true);
    ask.then(function (signOut) {
      if (!signOut) return;
      form.setAttribute("data-forgotten", "");
      forgetTeamData().finally(function () { form.submit(); });
    });
  });
})();
