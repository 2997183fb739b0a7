/* cadreval: small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  onReady(function () {
    // The language switch submits itself; a button is shown when scripts are off.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });

  // "Tick all" boxes for bulk actions: <input type="checkbox" data-check-all="name">.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-check-all]")) { return; }
    var scope = box.closest("form") || document;
    scope.querySelectorAll('input[type="checkbox"][name="' + box.dataset.checkAll + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
    scope.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Buttons that cannot be undone ask first: <button data-confirm="…">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Tell screen-reader users that a live panel was refreshed.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-live-focus")) {
      target.setAttribute("aria-busy", "false");
    }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-live-focus")) {
      target.setAttribute("aria-busy", "true");
    }
  });
})();
