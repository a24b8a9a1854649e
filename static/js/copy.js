// Copy buttons: <button data-copy-from="input-id" data-copied-text="Copied"> copies that input's value
// and says so on the button for a moment. Falls back to selecting the text when the clipboard is unavailable.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy-from"));
    if (!input) return;
    var label = button.textContent;
    function done() {
      button.textContent = button.getAttribute("data-copied-text") || label;
      window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        if (document.execCommand("copy")) done();
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
