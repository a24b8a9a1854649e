/*
 * The event editor: add/remove session rows, and the "Select room" dialog
 * ("Choose" a free site room or one of the event's ad-hoc rooms, or "Create"
 * an ad-hoc room). Nothing is saved here: each row keeps its room choice as
 * JSON in a hidden input, and "Save changes" posts the whole form.
 *
 * Providers that need a per-user account show a "Connect" button. If the page
 * defines window.seminarsVirtualConnect(provider, element), clicking Connect
 * calls it; it should set element.dataset.connected = "1" once connected.
 *
 * Its words come from the page's json_script "event-form-texts" (translated on the server).
 */
(function () {
  "use strict";

  var form = document.getElementById("event-form");
  var modal = document.getElementById("room-modal");
  if (!form || !modal) return;

  var rowsBox = form.querySelector("[data-session-rows]");
  var template = document.getElementById("session-template");
  var totalInput = form.querySelector('input[name="sessions-TOTAL_FORMS"]');
  var noSessions = form.querySelector("[data-no-sessions]");
  var textsElement = document.getElementById("event-form-texts");
  var TEXTS = textsElement ? JSON.parse(textsElement.textContent) : {};

  // A text with its %(name)s placeholders filled in from `values`.
  function text(name, values) {
    return (TEXTS[name] || "").replace(/%\((\w+)\)s/g, function (placeholder, key) {
      return values && key in values ? String(values[key]) : placeholder;
    });
  }

  var currentRow = null;
  var returnFocus = null;

  // ---- Session rows -------------------------------------------------------

  function visibleRows() {
    return Array.prototype.filter.call(rowsBox.querySelectorAll("[data-session-row]"), function (row) {
      return !row.hidden;
    });
  }

  function renumber() {
    var rows = visibleRows();
    rows.forEach(function (row, index) {
      row.querySelector("[data-session-number]").textContent = String(index + 1);
    });
    noSessions.hidden = rows.length > 0;
  }

  function addSession() {
    var index = parseInt(totalInput.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rowsBox.appendChild(row);
    totalInput.value = String(index + 1);
    renumber();
    var first = row.querySelector('input[type="datetime-local"]');
    if (first) first.focus();
  }

  function removeSession(row) {
    // The row stays in the form (marked for deletion) so the formset's numbering holds.
    row.querySelector("[data-session-delete]").checked = true;
    row.hidden = true;
    renumber();
  }

  // ---- A row's room choice -------------------------------------------------

  function roomInput(row) {
    return row.querySelector("input[data-room-choice]");
  }

  function readChoice(row) {
    var raw = roomInput(row).value;
    if (!raw) return null;
    try {
      return JSON.parse(raw);
    } catch (e) {
      return null;
    }
  }

  function writeChoice(row, choice) {
    roomInput(row).value = choice ? JSON.stringify(choice) : "";
    var label = row.querySelector("[data-room-label]");
    label.textContent = "";
    label.classList.toggle("muted", !choice);
    if (!choice) {
      label.textContent = text("noRoom");
    } else {
      label.appendChild(document.createTextNode(choice.name + " "));
      if (choice.mode !== "site") {
        var badge = document.createElement("span");
        badge.className = choice.mode === "new" ? "badge badge-muted" : "badge";
        badge.textContent = text(choice.mode === "new" ? "newAdhocRoom" : "adhocRoom");
        label.appendChild(badge);
      }
    }
    row.querySelector('[data-action="remove-room"]').hidden = !choice;
  }

  // ---- The dialog ------------------------------------------------------------

  var tabs = {
    choose: document.getElementById("room-tab-choose"),
    create: document.getElementById("room-tab-create"),
  };
  var panels = {
    choose: document.getElementById("room-panel-choose"),
    create: document.getElementById("room-panel-create"),
  };
  var fields = {
    name: document.getElementById("room-name"),
    capacity: document.getElementById("room-capacity"),
    description: document.getElementById("room-description"),
    kind: document.getElementById("room-virtual-kind"),
    url: document.getElementById("room-virtual-url"),
  };
  var errorsBox = modal.querySelector("[data-modal-errors]");
  var chooseStatus = modal.querySelector("[data-choose-status]");
  var siteBox = modal.querySelector("[data-choose-site]");
  var siteList = modal.querySelector("[data-choose-site-list]");
  var adhocBox = modal.querySelector("[data-choose-adhoc]");
  var adhocList = modal.querySelector("[data-choose-adhoc-list]");

  function activeTab() {
    return tabs.create.getAttribute("aria-selected") === "true" ? "create" : "choose";
  }

  function showTab(name) {
    Object.keys(tabs).forEach(function (key) {
      tabs[key].setAttribute("aria-selected", key === name ? "true" : "false");
      panels[key].hidden = key !== name;
    });
    showErrors([]);
    if (name === "choose") loadRooms();
  }

  function showErrors(messages) {
    errorsBox.textContent = "";
    messages.forEach(function (message) {
      var li = document.createElement("li");
      li.textContent = message;
      errorsBox.appendChild(li);
    });
    errorsBox.hidden = messages.length === 0;
  }

  function selectedKindOption() {
    return fields.kind.options[fields.kind.selectedIndex];
  }

  function connectBox(provider) {
    return modal.querySelector('.virtual-connect[data-provider="' + provider + '"]');
  }

  function updateKind() {
    var kind = fields.kind.value;
    modal.querySelector("[data-custom-url]").hidden = kind !== "custom";
    modal.querySelectorAll(".virtual-connect").forEach(function (box) {
      box.hidden = box.dataset.provider !== kind;
    });
    // A saved room keeping its provider keeps its host (moving it is a handover): no picker then.
    var current = currentRow ? readChoice(currentRow) : null;
    var keepsKind = current && current.mode === "adhoc" && current.virtual_kind === kind;
    var picker = window.seminarsHostPicker;
    if (picker) picker.show(keepsKind ? "" : kind);
    // Alternative hosts: for a room in the site's account, kept or made now (they may change at any time).
    var alternatives = window.seminarsAlternativeHosts;
    if (alternatives) {
      var inAccount = keepsKind ? !!current.in_site_account : !!picker && picker.needed(kind);
      alternatives.show(inAccount ? kind : "", keepsKind ? current.virtual_alternative_hosts || [] : []);
    }
  }

  function fillCreate(choice) {
    var editing = choice && choice.mode !== "site";
    fields.name.value = editing ? choice.name || "" : "";
    fields.capacity.value = editing && choice.capacity != null ? choice.capacity : "";
    fields.description.value = editing ? choice.description || "" : "";
    fields.kind.value = editing ? choice.virtual_kind || "" : "";
    if (fields.kind.selectedIndex < 0) fields.kind.value = "";
    fields.url.value = editing ? choice.virtual_url || "" : "";
    updateKind();
  }

  function openModal(row, opener) {
    currentRow = row;
    returnFocus = opener;
    var choice = readChoice(row);
    fillCreate(choice);
    modal.hidden = false;
    showTab(choice && choice.mode !== "site" ? "create" : "choose");
    (activeTab() === "create" ? fields.name : tabs.choose).focus();
  }

  function closeModal() {
    modal.hidden = true;
    showErrors([]);
    currentRow = null;
    if (returnFocus) returnFocus.focus();
  }

  // ---- "Choose": rooms free at the row's time ----------------------------------

  function rowValue(row, suffix) {
    var input = row.querySelector('[name$="-' + suffix + '"]');
    return input ? input.value.trim() : "";
  }

  function radio(name, room, checked) {
    var label = document.createElement("label");
    label.className = "room-choice";
    var input = document.createElement("input");
    input.type = "radio";
    input.name = "room-choice";
    input.value = name + ":" + room.id;
    input.checked = checked;
    input.roomData = room;
    input.roomMode = name;
    label.appendChild(input);
    var caption = document.createElement("span");
    caption.textContent = " " + text("roomChoice", { name: room.name, capacity: room.capacity });
    label.appendChild(caption);
    if (room.description) {
      var description = document.createElement("span");
      description.className = "muted small";
      description.textContent = " — " + room.description;
      label.appendChild(description);
    }
    return label;
  }

  function loadRooms() {
    var row = currentRow;
    siteBox.hidden = true;
    adhocBox.hidden = true;
    var start = rowValue(row, "start");
    var finish = rowValue(row, "finish");
    var zone = rowValue(row, "time_zone");
    if (!start || !finish || !zone) {
      chooseStatus.textContent = text("enterTimes");
      return;
    }
    chooseStatus.textContent = text("loading");
    var params = new URLSearchParams({ start: start, finish: finish, zone: zone });
    if (form.dataset.event) params.set("event", form.dataset.event);
    var current = readChoice(row);
    fetch(form.dataset.availableUrl + "?" + params.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (row !== currentRow) return;
        if (!result.ok) {
          chooseStatus.textContent = result.body.error || text("loadFailed");
          return;
        }
        renderRooms(result.body, current);
      })
      .catch(function () {
        if (row === currentRow) chooseStatus.textContent = text("loadFailedTryAgain");
      });
  }

  function renderRooms(body, current) {
    siteList.textContent = "";
    adhocList.textContent = "";
    body.rooms.forEach(function (room) {
      siteList.appendChild(radio("site", room, !!current && current.mode === "site" && current.id === room.id));
    });
    body.adhoc.forEach(function (room) {
      adhocList.appendChild(radio("adhoc", room, !!current && current.mode === "adhoc" && current.id === room.id));
    });
    siteBox.hidden = body.rooms.length === 0;
    adhocBox.hidden = body.adhoc.length === 0;
    chooseStatus.textContent =
      body.rooms.length === 0 && body.adhoc.length === 0
        ? text("noneFree")
        : "";
  }

  // ---- OK ----------------------------------------------------------------------------

  function chosenRoom() {
    var checked = modal.querySelector('input[name="room-choice"]:checked');
    if (!checked) return { errors: [text("chooseRoom")] };
    var room = checked.roomData;
    if (checked.roomMode === "site") return { choice: { mode: "site", id: room.id, name: room.name } };
    return {
      choice: {
        mode: "adhoc",
        id: room.id,
        name: room.name,
        capacity: room.capacity,
        description: room.description,
        virtual_kind: room.virtual_kind,
        virtual_url: room.virtual_url,
        in_site_account: !!room.in_site_account,
        virtual_alternative_hosts: room.virtual_alternative_hosts || [],
      },
    };
  }

  function isWebUrl(text) {
    try {
      var url = new URL(text);
      return (url.protocol === "https:" || url.protocol === "http:") && !!url.hostname;
    } catch (e) {
      return false;
    }
  }

  function createdRoom() {
    var errors = [];
    var name = fields.name.value.trim();
    var capacityText = fields.capacity.value.trim();
    var capacity = /^\d+$/.test(capacityText) ? parseInt(capacityText, 10) : NaN;
    var kind = fields.kind.value;
    var url = fields.url.value.trim();
    if (!name) errors.push(text("enterName"));
    if (!(capacity >= 1)) errors.push(text("roomCapacity"));
    if (kind === "custom" && !isWebUrl(url)) {
      errors.push(text("badUrl"));
    }
    if (selectedKindOption().dataset.needsConnection === "1") {
      var box = connectBox(kind);
      if (!box || box.dataset.connected !== "1") errors.push(text("connectFirst"));
    }
    var current = readChoice(currentRow);
    var editing = current && current.mode !== "site";
    // A room keeping its provider keeps its host; one made now or switched to the site's account needs one.
    var picker = window.seminarsHostPicker;
    var keepsKind = editing && current.mode === "adhoc" && current.virtual_kind === kind;
    var host = picker && !keepsKind ? picker.chosen(kind) : null;
    if (picker && !keepsKind && picker.needed(kind) && !host) errors.push(picker.text("hostChoose"));
    if (errors.length) return { errors: errors };
    var choice = {
      mode: editing ? current.mode : "new",
      name: name,
      capacity: capacity,
      description: fields.description.value.trim(),
      virtual_kind: kind,
      virtual_url: kind === "custom" ? url : "",
    };
    if (editing && current.mode === "adhoc") choice.id = current.id;
    if (host) choice.virtual_host = host.id;
    if (keepsKind) choice.in_site_account = !!current.in_site_account;
    var alternatives = window.seminarsAlternativeHosts ? window.seminarsAlternativeHosts.chosen(kind) : null;
    if (alternatives) choice.virtual_alternative_hosts = alternatives;
    return { choice: choice };
  }

  function confirmRoom() {
    var result = activeTab() === "create" ? createdRoom() : chosenRoom();
    if (result.errors) {
      showErrors(result.errors);
      return;
    }
    var choice = result.choice;
    if (choice.mode === "adhoc") {
      // One ad-hoc room may serve several sessions: keep every row that uses it in step.
      visibleRows().forEach(function (row) {
        var other = readChoice(row);
        if (row !== currentRow && other && other.mode === "adhoc" && other.id === choice.id) writeChoice(row, choice);
      });
    }
    writeChoice(currentRow, choice);
    closeModal();
  }

  // ---- Wiring ------------------------------------------------------------------------

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    var row = button.closest("[data-session-row]");
    switch (button.dataset.action) {
      case "add-session":
        addSession();
        break;
      case "remove-session":
        removeSession(row);
        break;
      case "select-room":
        openModal(row, button);
        break;
      case "remove-room":
        writeChoice(row, null);
        button.closest(".session-room").querySelector('[data-action="select-room"]').focus();
        break;
    }
  });

  tabs.choose.addEventListener("click", function () {
    showTab("choose");
  });
  tabs.create.addEventListener("click", function () {
    showTab("create");
  });
  fields.kind.addEventListener("change", function () {
    updateKind();
    showErrors([]);
  });
  modal.querySelectorAll("[data-room-cancel]").forEach(function (button) {
    button.addEventListener("click", closeModal);
  });
  modal.querySelector("[data-room-ok]").addEventListener("click", confirmRoom);
  modal.querySelectorAll('.virtual-connect [data-action="connect"]').forEach(function (button) {
    button.addEventListener("click", function () {
      var box = button.closest(".virtual-connect");
      if (typeof window.seminarsVirtualConnect === "function") {
        showErrors([]);
        window.seminarsVirtualConnect(box.dataset.provider, box);
      } else {
        showErrors([text("connectUnavailable")]);
      }
    });
  });
  modal.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeModal();
  });
  modal.addEventListener("click", function (event) {
    if (event.target === modal) closeModal();
  });

  // ---- Save once ------------------------------------------------------------------------
  // A double or triple click on "Save changes" sends the form once. (The server also
  // refuses to create two events from one "Add event" form: its one-time token.)

  var saveButtons = form.querySelectorAll('button[type="submit"]');
  var SAVE_RETRY_MS = 15000;
  var releaseTimer = null;

  function holdSave() {
    form.dataset.saving = "1";
    saveButtons.forEach(function (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    });
    // Still here long after (a lost connection): let the person try again.
    releaseTimer = window.setTimeout(releaseSave, SAVE_RETRY_MS);
  }

  function releaseSave() {
    window.clearTimeout(releaseTimer);
    delete form.dataset.saving;
    saveButtons.forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;
    if (form.dataset.saving === "1") {
      event.preventDefault();
      return;
    }
    holdSave();
  });
  // Back on this page from the next one (the browser's page cache keeps the disabled button).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) releaseSave();
  });

  renumber();
})();
