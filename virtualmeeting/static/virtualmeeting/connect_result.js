/*
 * The connect popup's last page (virtualmeeting/connect_result.html): hand the result to the
 * window that opened the popup, then close. The page carries the result and the opener's
 * origin as json_script blocks (#vm-connect-result, #vm-target-origin).
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("vm-connect-result").textContent);
  var targetOrigin = JSON.parse(document.getElementById("vm-target-origin").textContent);
  if (window.opener && !window.opener.closed) {
    // An explicit target origin: the message reaches only a window of this site.
    window.opener.postMessage(data, targetOrigin);
    window.close();
  }
})();
