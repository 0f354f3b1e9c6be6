/* Swipe votes with undo on the inbox's request cards (data-swipe-card).
   - Right approves, left rejects; the button twins (data-swipe-action) do the same for keyboards and
     screen readers. The vote is sent only after the undo window (UNDO_MS) has passed, or when the page is
     left; one vote waits at a time.
   - A vote goes through the outbox (static/js/outbox-page.js queue): sent now, or kept on the phone until
     the network is back. A card whose vote waits there says so instead of offering the vote again.
   - Live regions (app.js) do not poll while a card is being swiped or a vote waits for its undo. */
(function () {
  "use strict";

  var UNDO_MS = 5000, SWIPE_THRESHOLD = 0.3;
  var pendingVote = null;  // {card, choice, timer} while a swiped vote waits for its undo window
  var swiping = false;

  window.teambudget.pausePollingWhile(function () { return swiping || !!pendingVote; });

  function undoBar() { return document.querySelector("[data-undo-bar]"); }

  function startVote(card, choice, doneText) {
    if (pendingVote) sendVote();  // one pending vote at a time: the earlier one goes now
    card.classList.add("request-card--gone");
    card.hidden = true;
    var bar = undoBar();
    bar.querySelector("[data-undo-text]").textContent = doneText;
    bar.hidden = false;
    bar.querySelector("[data-undo-button]").hidden = false;
    bar.querySelector("[data-undo-button]").focus();
    pendingVote = { card: card, choice: choice, timer: setTimeout(sendVote, UNDO_MS) };
  }

  function undoVote() {
    if (!pendingVote) return;
    clearTimeout(pendingVote.timer);
    var card = pendingVote.card;
    pendingVote = null;
    undoBar().hidden = true;
    card.hidden = false;
    card.classList.remove("request-card--gone");
    card.style.transform = "";
    var first = card.querySelector("[data-swipe-action]");
    if (first) first.focus();
  }

  async function sendVote() {
    var vote = pendingVote;
    if (!vote) return;
    clearTimeout(vote.timer);
    try {  // sent now, or kept on the phone until the network is back (outbox.js, loaded on every page)
      var outcome = await window.teambudgetOutbox.queue("vote", vote.card.dataset.voteUrl, { choice: [vote.choice] },
        { subject: vote.card.querySelector(".card__title a").textContent.trim() });
      if (outcome.state === "sent") { undoBar().hidden = true; return; }
      if (outcome.state !== "waiting" && outcome.state !== "sending") throw new Error(outcome.message);
      // Queued: nothing left to undo here; the bar (role=status) says where the vote waits.
      showVoteOutcome(window.teambudgetOutbox.texts().voteQueued || outcome.message);
    } catch (error) {
      vote.card.hidden = false;
      vote.card.classList.remove("request-card--gone");
      vote.card.style.transform = "";
      showVoteOutcome(error.message);
    } finally {
      if (pendingVote === vote) pendingVote = null;
    }
  }

  function showVoteOutcome(text) {
    var bar = undoBar(), button = bar.querySelector("[data-undo-button]"), focused = document.activeElement === button;
    bar.querySelector("[data-undo-text]").textContent = text;
    button.hidden = true;
    if (focused) document.getElementById("main").focus();  // focus does not vanish with the button
  }

  function trackSwipe(card) {
    var startX = null, lastX = null;
    card.addEventListener("touchstart", function (event) {
      startX = lastX = event.touches[0].clientX;
      swiping = true;
    }, { passive: true });
    card.addEventListener("touchmove", function (event) {
      if (startX === null) return;
      lastX = event.touches[0].clientX;  // a synthetic touchend may carry no changedTouches
      card.style.transform = "translateX(" + (lastX - startX) + "px)";
    }, { passive: true });
    card.addEventListener("touchend", function () {
      var moved = (lastX - startX) / card.offsetWidth;
      startX = null;
      swiping = false;
      // a card whose vote waits in the outbox (markQueuedVotes) is not voted on again
      if (Math.abs(moved) < SWIPE_THRESHOLD || card.hasAttribute("data-vote-queued")) { card.style.transform = ""; return; }
      var button = card.querySelector('[data-swipe-action="' + (moved > 0 ? "approve" : "reject") + '"]');
      startVote(card, button.dataset.swipeAction, button.dataset.doneText);
    });
  }

  function initSwipeCards(root) {
    root.querySelectorAll("[data-swipe-card]:not([data-swipe-ready])").forEach(function (card) {
      card.setAttribute("data-swipe-ready", "");
      trackSwipe(card);
    });
  }

  // A card whose vote waits in the outbox must not look unvoted (a kept copy of the inbox, offline): say so
  // instead of offering the vote again; once the vote is sent the live inbox shows it.
  async function markQueuedVotes() {
    var cards = document.querySelectorAll("[data-swipe-card][data-vote-url]"), outbox = window.teambudgetOutbox;
    if (!cards.length) return;
    var owner = outbox.currentOwner(), waiting = {};
    (await outbox.items()).forEach(function (item) {
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
    note.textContent = window.teambudgetOutbox.texts().voteWaits + " ";
    note.appendChild(window.teambudgetOutbox.linkToOutbox());
    card.appendChild(note);
  }

  document.addEventListener("click", function (event) {
    var swipeButton = event.target.closest("[data-swipe-action]");
    if (swipeButton) { startVote(swipeButton.closest("[data-swipe-card]"), swipeButton.dataset.swipeAction, swipeButton.dataset.doneText); return; }
    if (event.target.closest("[data-undo-button]")) undoVote();
  });

  window.teambudgetOutbox.onChange(markQueuedVotes);
  document.addEventListener("DOMContentLoaded", function () {
    markQueuedVotes();
    initSwipeCards(document);
  });
  // A boosted navigation or a live region swaps content without a new DOMContentLoaded.
  document.addEventListener("htmx:after:settle", function () {
    markQueuedVotes();
    initSwipeCards(document);
  });
  // Leaving the page sends a vote still waiting for its undo window rather than losing it.
  window.addEventListener("pagehide", function () { if (pendingVote) sendVote(); });
})();
