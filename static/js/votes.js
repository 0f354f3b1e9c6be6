/* Swipe votes with undo on the inbox's request cards (data-swipe-card).
   - Right approves, left rejects, by finger, mouse or pen (pointer events, captured by the card); the button
     twins (data-swipe-action) do the same for keyboards and screen readers. The vote is sent only after the
     undo window (UNDO_MS) has passed, or when the page is left; one vote waits at a time. The undo bar counts
     the seconds down (seen, not read out), and says "sent" for a moment before it fades.
   - The "waits for your vote" line counts down at once when a card goes, and up again on undo.
   - A vote goes through the outbox (static/js/outbox-page.js queue): sent now, or kept on the phone until
     the network is back. A card whose vote waits there says so instead of offering the vote again.
   - Live regions (app.js) do not poll while a card is being swiped or a vote waits for its undo; a
     <details data-keep-open> in a live region (the balance) stays open across its swaps. */
(function () {
  "use strict";

  var UNDO_MS = 5000, SWIPE_THRESHOLD = 0.3, SENT_SHOWN_MS = 3000, TAP_SLOP_PX = 10;
  var pendingVote = null;  // {card, choice, timer, ticker} while a swiped vote waits for its undo window
  var swiping = false, fadeTimer = null;

  window.teambudget.pausePollingWhile(function () { return swiping || !!pendingVote; });

  function undoBar() { return document.querySelector("[data-undo-bar]"); }

  // A swipe or a tap on a button twin: the card goes, and the vote waits for its undo window.
  function startVote(button) {
    if (pendingVote) sendVote();  // one pending vote at a time: the earlier one goes now
    var card = button.closest("[data-swipe-card]");
    card.hidden = true;
    countWaiting(-1);
    var bar = showBar(button.dataset.doneText);
    bar.querySelector("[data-undo-button]").hidden = false;
    bar.querySelector("[data-undo-button]").focus();
    var vote = { card: card, choice: button.dataset.swipeAction, timer: setTimeout(sendVote, UNDO_MS), until: Date.now() + UNDO_MS };
    vote.ticker = setInterval(function () { showCountdown(vote); }, 250);
    pendingVote = vote;
    showCountdown(vote);
  }

  function showBar(text) {
    var bar = undoBar();
    clearTimeout(fadeTimer);
    bar.classList.remove("undo-bar--fading");
    bar.querySelector("[data-undo-text]").textContent = text;
    bar.querySelector("[data-undo-countdown]").textContent = "";
    bar.hidden = false;
    return bar;
  }

  function showCountdown(vote) {
    var bar = undoBar(), seconds = Math.max(0, Math.ceil((vote.until - Date.now()) / 1000));
    bar.querySelector("[data-undo-countdown]").textContent = bar.dataset.countdownText.replace("{s}", seconds);
  }

  function stopCountdown(vote) {
    clearTimeout(vote.timer);
    clearInterval(vote.ticker);
    undoBar().querySelector("[data-undo-countdown]").textContent = "";
  }

  // The "waits for your vote" line follows the cards at once; the live region brings the server's count later.
  function countWaiting(change) {
    var line = document.querySelector("[data-waiting-count]");
    if (!line) return;
    var count = Math.max(0, Number(line.dataset.waitingCount) + change);
    line.dataset.waitingCount = count;
    line.hidden = count === 0;
    line.textContent = count === 1 ? line.dataset.textOne : line.dataset.textOther.replace("{n}", count);
  }

  function showCard(card) {
    card.hidden = false;
    card.style.transform = "";
    countWaiting(+1);
  }

  function undoVote() {
    if (!pendingVote) return;
    stopCountdown(pendingVote);
    var card = pendingVote.card;
    pendingVote = null;
    undoBar().hidden = true;
    showCard(card);
    var first = card.querySelector("[data-swipe-action]");
    if (first) first.focus();
  }

  async function sendVote() {
    var vote = pendingVote;
    if (!vote) return;
    stopCountdown(vote);
    try {  // sent now, or kept on the phone until the network is back (outbox.js, loaded on every page)
      var outcome = await window.teambudgetOutbox.queue("vote", vote.card.dataset.voteUrl, { choice: [vote.choice] },
        { subject: vote.card.querySelector(".card__title a").textContent.trim() });
      if (outcome.state === "sent") { showSent(vote); return; }
      if (outcome.state !== "waiting" && outcome.state !== "sending") throw new Error(outcome.message);
      // Queued: nothing left to undo here; the bar (role=status) says where the vote waits.
      showVoteOutcome(window.teambudgetOutbox.texts().voteQueued || outcome.message);
    } catch (error) {
      showCard(vote.card);
      showVoteOutcome(error.message);
    } finally {
      if (pendingVote === vote) pendingVote = null;
    }
  }

  // Sent: say so for a moment, then fade (unless another vote took the bar meanwhile).
  function showSent(vote) {
    var bar = undoBar();
    if (pendingVote && pendingVote !== vote) return;  // a later swipe's undo bar stays
    showVoteOutcome(bar.dataset.sentText);
    fadeTimer = setTimeout(function () {
      bar.classList.add("undo-bar--fading");
      fadeTimer = setTimeout(function () { bar.hidden = true; bar.classList.remove("undo-bar--fading"); }, 600);
    }, SENT_SHOWN_MS);
  }

  function showVoteOutcome(text) {
    var bar = showBar(text), button = bar.querySelector("[data-undo-button]"), focused = document.activeElement === button;
    button.hidden = true;
    if (focused) document.getElementById("main").focus();  // focus does not vanish with the button
  }

  // One pointer at a time follows the card (captured, so a mouse leaving the card still counts); a vertical
  // move is the page scrolling (touch-action: pan-y), which the browser answers with pointercancel.
  function trackSwipe(card) {
    var pointer = null, startX = 0, lastX = 0;
    card.addEventListener("pointerdown", function (event) {
      if (pointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
      if (event.target.closest("a, button, input, select, textarea, summary")) return;  // a tap on a control is a tap
      pointer = event.pointerId;
      startX = lastX = event.clientX;
      swiping = true;
      card.setPointerCapture(pointer);
    });
    card.addEventListener("pointermove", function (event) {
      if (event.pointerId !== pointer) return;
      lastX = event.clientX;
      if (Math.abs(lastX - startX) > TAP_SLOP_PX) card.style.transform = "translateX(" + (lastX - startX) + "px)";
    });
    card.addEventListener("pointerup", function (event) {
      if (event.pointerId !== pointer) return;
      lastX = event.clientX;
      finishSwipe();
    });
    card.addEventListener("pointercancel", function (event) {
      if (event.pointerId !== pointer) return;
      lastX = startX;  // the browser took the gesture (a scroll): no vote
      finishSwipe();
    });

    function finishSwipe() {
      var moved = (lastX - startX) / card.offsetWidth;
      pointer = null;
      swiping = false;
      // a card whose vote waits in the outbox (markQueuedVotes) is not voted on again
      if (Math.abs(moved) < SWIPE_THRESHOLD || card.hasAttribute("data-vote-queued")) { card.style.transform = ""; return; }
      startVote(card.querySelector('[data-swipe-action="' + (moved > 0 ? "approve" : "reject") + '"]'));
    }
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
    if (swipeButton) { startVote(swipeButton); return; }
    if (event.target.closest("[data-undo-button]")) undoVote();
  });

  function setUpCards() {
    markQueuedVotes();
    initSwipeCards(document);
  }

  window.teambudgetOutbox.onChange(markQueuedVotes);
  document.addEventListener("DOMContentLoaded", setUpCards);
  // A boosted navigation or a live region swaps content without a new DOMContentLoaded.
  document.addEventListener("htmx:after:settle", setUpCards);

  // A <details data-keep-open> (the balance's figures) stays as the member left it when its live region swaps.
  var openDetails = {};
  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches("details[data-keep-open][id]")) openDetails[event.target.id] = event.target.open;
  }, true);
  document.addEventListener("htmx:after:swap", function () {
    Object.keys(openDetails).forEach(function (id) {
      var details = document.getElementById(id);
      if (details && details.open !== openDetails[id]) details.open = openDetails[id];
    });
  });
  // Leaving the page sends a vote still waiting for its undo window rather than losing it.
  window.addEventListener("pagehide", function () { if (pendingVote) sendVote(); });
})();
