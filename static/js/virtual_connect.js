/*
 * "Connect" in the room dialog: opens the provider's sign-in popup (through
 * virtualmeeting/connect.js, which only believes messages from this origin and
 * from the popup it opened) and shows the connected account's "Name (email)"
 * next to the button, or in full why nothing was connected. Also warns when the
 * room's capacity exceeds what the connected account's meetings hold. Its words
 * come from the page's json_script "virtual-room-texts" (and "vm-connect-texts").
 */
(function () {
  "use strict";

  var capacityInput = document.getElementById("room-capacity");
  var textsElement = document.getElementById("virtual-room-texts");
  var TEXTS = textsElement ? JSON.parse(textsElement.textContent) : {};

  function checkCapacity(box) {
    var warning = box.querySelector("[data-capacity-warning]");
    if (!warning) return;
    var limit = parseInt(box.dataset.capacity || "", 10);
    var wanted = parseInt((capacityInput && capacityInput.value) || "", 10);
    if (box.dataset.connected === "1" && limit > 0 && wanted > limit) {
      warning.textContent = (TEXTS.capacity || "")
        .replace("%(wanted)s", String(wanted))
        .replace("%(limit)s", String(limit));
      warning.hidden = false;
    } else {
      warning.textContent = "";
      warning.hidden = true;
    }
  }

  function refreshStatus(box) {
    var url = box.dataset.statusUrl;
    if (!url) return;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        if (data.capacity) box.dataset.capacity = String(data.capacity);
        checkCapacity(box);
      })
      .catch(function () { /* the warning is advisory */ });
  }

  window.seminarsVirtualConnect = function (provider, box) {
    var account = box.querySelector("[data-connect-account]");
    var button = box.querySelector('[data-action="connect"]');
    account.classList.remove("error");
    account.textContent = window.VirtualMeetingConnect.text("waiting");
    if (button) button.disabled = true;
    window.VirtualMeetingConnect.open(provider, function (result) {
      if (button) button.disabled = false;
      if (result.ok) {
        box.dataset.connected = "1";
        account.textContent = result.label;
        refreshStatus(box);
      } else {
        account.textContent = result.message;
        account.classList.add("error");
      }
    }, {url: box.dataset.connectUrl});
  };

  document.querySelectorAll(".virtual-connect").forEach(function (box) {
    checkCapacity(box);
    if (capacityInput) {
      capacityInput.addEventListener("input", function () { checkCapacity(box); });
    }
  });
})();
