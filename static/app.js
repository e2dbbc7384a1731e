// decom front-end behaviour (no inline scripts; the CSP forbids them).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // Every htmx request carries the CSRF token; plain forms carry _csrf.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // "Select every row on this page": tick or untick the row boxes, then post
  // the selection form once through the first row's htmx trigger.
  document.addEventListener("change", function (e) {
    var all = e.target;
    if (!all.matches || !all.matches("input[data-select-page]")) return;
    var form = all.closest("form");
    var boxes = form ? form.querySelectorAll('input[type="checkbox"][name="key"]') : [];
    if (boxes.length === 0) return;
    boxes.forEach(function (b) { b.checked = all.checked; });
    if (window.htmx) {
      window.htmx.trigger(boxes[0], "change");
    } else {
      form.requestSubmit();
    }
  });

  // Keep the header box in step with the rows after each swap.
  function syncPageBox(root) {
    var all = (root || document).querySelector("input[data-select-page]");
    if (!all) return;
    var boxes = all.closest("form").querySelectorAll('input[type="checkbox"][name="key"]');
    var n = 0;
    boxes.forEach(function (b) { if (b.checked) n++; });
    all.checked = boxes.length > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
  }
  document.addEventListener("DOMContentLoaded", function () { syncPageBox(document); });
  document.addEventListener("htmx:afterSettle", function () { syncPageBox(document); });
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches('input[name="key"]')) syncPageBox(document);
  });
})();
