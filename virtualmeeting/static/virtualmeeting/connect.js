/*
 * The opener side of the connect popup.
 *
 *   VirtualMeetingConnect.open("zoom", function (result) {
 *     // result: {ok: true|false, label: "Name (email)", message: "..."}
 *   });
 *
 * Only messages from this site's origin AND from the popup we opened are
 * believed; anything else is ignored.
 */
(function (global) {
  "use strict";

  var BASE = "/integrations/virtualmeeting/connect/";

  function open(providerId, onResult, options) {
    var url = (options && options.url) || BASE + encodeURIComponent(providerId);
    var popup = global.open(url, "virtualmeeting-connect", "width=600,height=720");
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
        finish({ok: false, label: "", message: data.message || "No account was connected."});
      }
    }

    if (!popup) {
      finish({ok: false, label: "", message: "Your browser blocked the sign-in window. Allow pop-ups for this site and try again."});
      return null;
    }
    global.addEventListener("message", onMessage);
    // A popup closed by hand sends nothing: report it once the last message had time to arrive.
    watcher = global.setInterval(function () {
      if (popup.closed) {
        global.clearInterval(watcher);
        watcher = null;
        global.setTimeout(function () {
          finish({ok: false, label: "", message: "The sign-in window was closed. No account was connected."});
        }, 500);
      }
    }, 400);
    return popup;
  }

  global.VirtualMeetingConnect = {open: open};
})(window);
