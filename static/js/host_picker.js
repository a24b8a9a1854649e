/*
 * The host of a room made in the site's account (room dialog, "Create"): a search
 * of the account's active users through the page's JSON route (its address in the
 * box's data-users-url), shown as radio buttons with name, email and licence; the
 * viewer's own user of the account, when there is one, is chosen first. Warns when
 * the room's capacity exceeds what the chosen host's meetings hold. Its words come
 * from the page's json_script "virtual-room-texts".
 */
(function () {
  "use strict";

  var textsElement = document.getElementById("virtual-room-texts");
  var TEXTS = textsElement ? JSON.parse(textsElement.textContent) : {};
  var capacityInput = document.getElementById("room-capacity");
  var boxes = {};
  var chosen = {};

  function text(key, values) {
    var result = TEXTS[key] || "";
    Object.keys(values || {}).forEach(function (name) {
      result = result.split("%(" + name + ")s").join(String(values[name]));
    });
    return result;
  }

  function checkCapacity(box) {
    var warning = box.querySelector("[data-capacity-warning]");
    var host = chosen[box.dataset.provider];
    var wanted = parseInt((capacityInput && capacityInput.value) || "", 10);
    if (host && host.capacity > 0 && wanted > host.capacity) {
      warning.textContent = text("hostCapacity", { wanted: wanted, limit: host.capacity });
      warning.hidden = false;
    } else {
      warning.textContent = "";
      warning.hidden = true;
    }
  }

  function render(box, users, own) {
    var list = box.querySelector("[data-host-list]");
    var provider = box.dataset.provider;
    list.textContent = "";
    var shown = users.slice();
    var current = chosen[provider] || own;
    if (current && !shown.some(function (user) { return user.id === current.id; })) shown.unshift(current);
    shown.forEach(function (user, index) {
      var id = "room-host-" + provider + "-" + index;
      var row = document.createElement("div");
      row.className = "room-choice";
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "room-host-" + provider;
      input.id = id;
      input.checked = !!current && current.id === user.id;
      input.addEventListener("change", function () {
        chosen[provider] = user;
        checkCapacity(box);
      });
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = text("hostLine", { name: user.name || user.email, email: user.email, licence: user.licence || "—" });
      if (own && own.id === user.id) label.textContent += " " + text("hostYou");
      row.appendChild(input);
      row.appendChild(label);
      list.appendChild(row);
    });
    if (current) chosen[provider] = current;
    box.querySelector("[data-host-status]").textContent = users.length ? "" : text("hostNone");
    checkCapacity(box);
  }

  function search(box) {
    var status = box.querySelector("[data-host-status]");
    var query = box.querySelector("[data-host-search]").value.trim();
    var url = box.dataset.usersUrl + "&q=" + encodeURIComponent(query);
    status.textContent = text("hostLoading");
    box.dataset.query = query;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (box.dataset.query !== query) return; // a later search is under way
        if (data.error) {
          status.textContent = data.error;
          return;
        }
        render(box, data.users || [], data.default || null);
      })
      .catch(function () { status.textContent = text("hostNone"); });
  }

  document.querySelectorAll(".host-picker").forEach(function (box) {
    boxes[box.dataset.provider] = box;
    var timer = null;
    box.querySelector("[data-host-search]").addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { search(box); }, 250);
    });
    if (capacityInput) capacityInput.addEventListener("input", function () { checkCapacity(box); });
  });

  window.seminarsHostPicker = {
    show: function (kind) {
      Object.keys(boxes).forEach(function (provider) {
        var box = boxes[provider];
        var visible = provider === kind;
        if (visible && box.hidden) {
          chosen[provider] = null;
          box.querySelector("[data-host-search]").value = "";
          search(box);
        }
        box.hidden = !visible;
      });
    },
    needed: function (kind) { return !!boxes[kind]; },
    chosen: function (kind) { return boxes[kind] ? chosen[kind] || null : null; },
    text: text,
  };
})();
