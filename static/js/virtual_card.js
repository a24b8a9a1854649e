/*
 * While a virtual meeting is being created or updated, its card says so and reloads itself until it is
 * ready: the room page's "Go to room" card (seminars:room_card) and each session's line on the event
 * page and My sessions (seminars:session_card). Every [data-virtual-card][data-pending] element is
 * refetched from its data-card-url and replaced by the fresh fragment, which carries data-pending
 * again only while the meeting is still in progress.
 *
 * The first checks come every 3 seconds; the wait then grows to 15 seconds (a page with many
 * sessions in progress stays light on the server), and a card stops checking after 15 minutes.
 */
(function () {
  "use strict";

  var FIRST = 3000;
  var LONGEST = 15000;
  var GROWTH = 1.25;
  var GIVE_UP_AFTER = 15 * 60 * 1000;
  var started = Date.now();

  function watch(card, wait) {
    if (!card.dataset.pending || Date.now() - started > GIVE_UP_AFTER) return;
    var next = Math.min(wait * GROWTH, LONGEST);
    window.setTimeout(function () {
      fetch(card.dataset.cardUrl, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return watch(card, next);
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.querySelector("[data-virtual-card]");
          if (!fresh) return;
          card.replaceWith(fresh);
          watch(fresh, next);
        })
        .catch(function () { watch(card, next); });
    }, wait);
  }

  document.querySelectorAll("[data-virtual-card]").forEach(function (card) { watch(card, FIRST); });
})();
