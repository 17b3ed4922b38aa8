/* A need's "Copy the link" button: shown only where the browser can copy (a secure page); without
   it the link stays written out beside the WhatsApp button, to select by hand. */
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(
        function () { status.textContent = button.dataset.done; },
        function () { status.textContent = button.dataset.failed; }
      );
    });
  });
})();
