/* A provider settings page: "Copy" buttons for the URLs an admin registers with the provider (Redirect URL, ...).
 *
 * A button names its text by id: <button data-copy-target="ID">, status in [data-copy-status="ID"].
 * Its words come from the page (json_script "virtualmeeting-copy-texts": {copied, copy_by_hand}), translated there.
 */
(function () {
  "use strict";

  var source = document.getElementById("virtualmeeting-copy-texts");
  var texts = source ? JSON.parse(source.textContent) : {};

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    // CSSOM properties, not a style attribute: allowed under a Content-Security-Policy without inline styles.
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-copy-target");
      var text = document.getElementById(id).textContent.trim();
      var status = document.querySelector('[data-copy-status="' + id + '"]');
      copy(text).then(
        function () { status.textContent = texts.copied || ""; },
        function () { status.textContent = texts.copy_by_hand || ""; }
      );
    });
  });
})();
