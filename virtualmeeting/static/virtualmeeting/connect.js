/*
 * The opener side of the connect popup.
 *
 *   VirtualMeetingConnect.open("zoom", function (result) {
 *     // result: {ok: true|false, label: "Name (email)", message: "..."}
 *   }, {url: button.dataset.connectUrl});
 *
 * The URL comes from the page (a data attribute rendered with {% url 'virtualmeeting:connect' id %}),
 * the words from the page's json_script "vm-connect-texts" (virtualmeeting.selectors.connect_texts):
 * a window closed on the provider's own pages sends us nothing, so the page says what can stop a
 * sign-in there (a private app refusing another account's user) rather than only "closed".
 *
 * Only messages from this site's origin AND from the popup we opened are believed; anything else
 * is ignored.
 *
 * Buttons carrying data-vm-reconnect (the profile's "Reconnect") start the same flow on click:
 * data-provider and data-connect-url say where; on success the page reloads to show the account,
 * otherwise the reason goes to the row's [data-vm-connect-message].
 */
(function (global) {
  "use strict";

  var textsElement = document.getElementById("vm-connect-texts");
  var TEXTS = textsElement ? JSON.parse(textsElement.textContent) : {};

  function text(name, fallback) {
    return TEXTS[name] || fallback || "";
  }

  function closedText(providerId) {
    return (TEXTS.closed && TEXTS.closed[providerId]) || text("failed");
  }

  function open(providerId, onResult, options) {
    var url = options && options.url;
    var popup = url ? global.open(url, "virtualmeeting-connect", "width=600,height=720") : null;
    var finished = false;
    var watcher = null;

    function finish(result) {
      if (finished) {
        return;
      }
      finished = true;
      global.removeEventListener("message", onMessage);
      if (watcher !== null) {
        global.clearInterval(watcher);
      }
      onResult(result);
    }

    function onMessage(event) {
      if (event.origin !== global.location.origin || event.source !== popup) {
        return;
      }
      var data = event.data || {};
      if (data.provider !== providerId) {
        return;
      }
      if (data.type === "virtualmeeting:connected") {
        finish({ok: true, label: data.label || "", message: data.message || ""});
      } else if (data.type === "virtualmeeting:error") {
        finish({ok: false, label: "", message: data.message || text("failed")});
      }
    }

    if (!popup) {
      finish({ok: false, label: "", message: text("blocked")});
      return null;
    }
    global.addEventListener("message", onMessage);
    // A popup closed by hand sends nothing: report it once the last message had time to arrive.
    watcher = global.setInterval(function () {
      if (popup.closed) {
        global.clearInterval(watcher);
        watcher = null;
        global.setTimeout(function () {
          finish({ok: false, label: "", message: closedText(providerId)});
        }, 500);
      }
    }, 400);
    return popup;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-vm-reconnect]");
    if (!button) {
      return;
    }
    event.preventDefault();
    var row = button.closest("tr") || button.parentNode;
    var note = row.querySelector("[data-vm-connect-message]");
    button.disabled = true;
    if (note) {
      note.classList.remove("error");
      note.textContent = text("waiting");
    }
    open(button.dataset.provider, function (result) {
      button.disabled = false;
      if (result.ok) {
        global.location.reload();
        return;
      }
      if (note) {
        note.textContent = result.message;
        note.classList.add("error");
      }
    }, {url: button.dataset.connectUrl});
  });

  global.VirtualMeetingConnect = {open: open, text: text};
})(window);
