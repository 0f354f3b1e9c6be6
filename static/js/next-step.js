/* The next step on a request page (templates/requests/_next_step.html) follows the live poll: when the step
   changed, the poll's answer carries its slot out of band (web/requests.py live), and the slot's content is
   swapped, so its polite live region reads the new step out without moving focus.
   It is not swapped under the member's hands: while focus is on a link or control in the slot, or a part of
   it says it is busy (aria-busy="true"), the newest step waits here and is put in once focus leaves the slot
   or the busy part is done (looked at again after each live poll). A slot replaced meanwhile (the status changed: the whole
   outcome came anew) drops what waited. */
(function () {
  "use strict";

  var SLOT_ID = "next-step-slot";
  var waiting = null;  // {slot, fresh}: the newest step for a slot in use

  function inUse(slot) {
    return slot.contains(document.activeElement) || !!slot.querySelector("[aria-busy='true']");
  }

  function putIn(slot, fresh) {
    slot.replaceChildren.apply(slot, Array.prototype.slice.call(fresh.childNodes));
  }

  function putInWaiting() {
    if (!waiting) return;
    if (!waiting.slot.isConnected) { waiting = null; return; }
    if (inUse(waiting.slot)) return;
    var held = waiting;
    waiting = null;
    putIn(held.slot, held.fresh);
  }

  document.addEventListener("htmx:before:swap", function (event) {
    var tasks = (event.detail && event.detail.tasks) || [];
    for (var i = tasks.length - 1; i >= 0; i--) {
      var task = tasks[i], slot = task.target;
      if (task.type !== "oob" || !slot || slot.id !== SLOT_ID) continue;
      waiting = null;  // a newer step than any that waited
      if (!inUse(slot)) continue;
      waiting = { slot: slot, fresh: task.fragment.firstElementChild.cloneNode(true) };
      tasks.splice(i, 1);
    }
  });

  // focus left the slot (focusout fires before the next element has focus: look once it has)
  document.addEventListener("focusout", function () { setTimeout(putInWaiting, 0); });
  // a busy part that finished says nothing: look again at each poll of the page's live regions
  document.addEventListener("htmx:after:request", putInWaiting);
})();
