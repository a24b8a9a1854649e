/*
 * The alternative hosts of a room in the site's account (room dialog, "Create"): users
 * of the account who may also start the room's meetings. A search of the account's
 * active users through the page's JSON route (the box's data-users-url, as the host
 * picker) lists each with an "Add" button; those added are shown above it, each with
 * a "Remove" button, at most `alternativeMax`. What is kept is their emails; the
 * server checks each again on save. Its words come from the page's json_script
 * "virtual-room-texts".
 */
(function () {
  "use strict";

  var textsElement = document.getElementById("virtual-room-texts");
  var TEXTS = textsElement ? JSON.parse(textsElement.textContent) : {};
  var LIMIT = TEXTS.alternativeMax || 10;
  var boxes = {};
  var chosen = {}; // provider -> [{email, name}]

  function text(key, values) {
    var result = TEXTS[key] || "";
    Object.keys(values || {}).forEach(function (name) {
      result = result.split("%(" + name + ")s").join(String(values[name]));
    });
    return result;
  }

  function isChosen(provider, email) {
    var wanted = email.toLowerCase();
    return (chosen[provider] || []).some(function (person) { return person.email.toLowerCase() === wanted; });
  }

  function button(label, accessibleName, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "btn btn-link btn-small";
    element.textContent = label;
    element.setAttribute("aria-label", accessibleName);
    element.addEventListener("click", onClick);
    return element;
  }

  function renderChosen(box) {
    var provider = box.dataset.provider;
    var list = box.querySelector("[data-alternative-chosen]");
    list.textContent = "";
    var people = chosen[provider] || [];
    if (!people.length) {
      var none = document.createElement("li");
      none.className = "muted small";
      none.textContent = text("alternativeNone");
      list.appendChild(none);
    }
    people.forEach(function (person, index) {
      var item = document.createElement("li");
      var caption = document.createElement("span");
      var shown = person.name ? person.name + " (" + person.email + ")" : person.email;
      caption.textContent = shown;
      item.appendChild(caption);
      item.appendChild(
        button(text("alternativeRemoveButton"), text("alternativeRemove", { name: shown }), function () {
          people.splice(index, 1);
          renderChosen(box);
          renderFound(box);
          var next = list.querySelector("button") || box.querySelector("[data-alternative-search]");
          next.focus();
        })
      );
      list.appendChild(item);
    });
  }

  function renderFound(box) {
    var provider = box.dataset.provider;
    var list = box.querySelector("[data-alternative-found]");
    var status = box.querySelector("[data-alternative-status]");
    var full = (chosen[provider] || []).length >= LIMIT;
    list.textContent = "";
    (box.found || []).forEach(function (user) {
      if (isChosen(provider, user.email)) return;
      var item = document.createElement("li");
      var caption = document.createElement("span");
      var shown = user.name ? user.name + " (" + user.email + ")" : user.email;
      caption.textContent = text("hostLine", { name: user.name || user.email, email: user.email, licence: user.licence || "—" });
      item.appendChild(caption);
      var add = button(text("alternativeAddButton"), text("alternativeAdd", { name: shown }), function () {
        chosen[provider] = (chosen[provider] || []).concat([{ email: user.email, name: user.name || "" }]);
        renderChosen(box);
        renderFound(box);
        box.querySelector("[data-alternative-search]").focus();
      });
      // Zoom lets only licensed users be alternative hosts; the server says so too.
      add.disabled = full || user.licensed === false;
      item.appendChild(add);
      list.appendChild(item);
    });
    if (full) status.textContent = text("alternativeFull", { limit: LIMIT });
  }

  function search(box) {
    var status = box.querySelector("[data-alternative-status]");
    var query = box.querySelector("[data-alternative-search]").value.trim();
    box.dataset.query = query;
    if (!query) {
      box.found = [];
      status.textContent = "";
      renderFound(box);
      return;
    }
    status.textContent = text("hostLoading");
    fetch(box.dataset.usersUrl + "&q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (box.dataset.query !== query) return; // a later search is under way
        box.found = data.users || [];
        status.textContent = data.error || (box.found.length ? "" : text("hostNone"));
        renderFound(box);
      })
      .catch(function () { status.textContent = text("hostNone"); });
  }

  document.querySelectorAll(".alternative-hosts").forEach(function (box) {
    boxes[box.dataset.provider] = box;
    var timer = null;
    box.querySelector("[data-alternative-search]").addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { search(box); }, 250);
    });
  });

  window.seminarsAlternativeHosts = {
    // Show the box of `kind` ("" hides them all) with `emails` chosen.
    show: function (kind, emails) {
      Object.keys(boxes).forEach(function (provider) {
        var box = boxes[provider];
        box.hidden = provider !== kind;
        if (box.hidden) return;
        chosen[provider] = (emails || []).map(function (email) { return { email: email, name: "" }; });
        box.querySelector("[data-alternative-search]").value = "";
        box.querySelector("[data-alternative-status]").textContent = "";
        box.found = [];
        renderChosen(box);
        renderFound(box);
      });
    },
    available: function (kind) { return !!boxes[kind]; },
    // The emails chosen for `kind`, or null when its box is not shown.
    chosen: function (kind) {
      var box = boxes[kind];
      if (!box || box.hidden) return null;
      return (chosen[kind] || []).map(function (person) { return person.email; });
    },
  };
})();
