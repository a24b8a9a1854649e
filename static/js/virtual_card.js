/*
 * While a virtual meeting is being created or updated, the room card says so
 * and reloads itself (every 3 seconds, for up to 10 minutes) until it is ready.
 */
(function () {
  "use strict";

  var INTERVAL = 3000;
  var LIMIT = 200;

  function watch(card, tries) {
    if (!card.dataset.pending || tries > LIMIT) return;
    window.setTimeout(function () {
      fetch(card.dataset.cardUrl, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return watch(card, tries + 1);
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.querySelector("[data-virtual-card]");
          if (!fresh) return;
          card.replaceWith(fresh);
          watch(fresh, tries + 1);
        })
        .catch(function () { watch(card, tries + 1); });
    }, INTERVAL);
  }

  document.querySelectorAll("[data-virtual-card]").forEach(function (card) { watch(card, 0); });
})();
