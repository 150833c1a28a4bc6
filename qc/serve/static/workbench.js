// qc workbench: keyboard shortcuts for the review queue and calibration, and the CSRF header
// htmx sends. No inline scripts anywhere (the Content-Security-Policy allows only this file and
// htmx); chat text never reaches this script.
(function () {
  "use strict";
  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = token();
  });
  function keyForm() {
    return document.querySelector("form[data-keys]");
  }
  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT");
  }
  document.addEventListener("keydown", function (event) {
    var form = keyForm();
    if (!form || event.ctrlKey || event.metaKey || event.altKey) return;
    var note = form.querySelector("textarea[name=note]");
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key.toLowerCase();
    if (key === "n" && note) {
      event.preventDefault();
      note.focus();
      return;
    }
    var button = form.querySelector('button[data-key="' + key + '"]');
    if (!button) return;
    event.preventDefault();
    if (form.dataset.keys === "queue" && button.value === "reject" && note && !note.value.trim()) {
      note.placeholder = "驳回需要备注 a reject needs a note: type it, then Esc and r";
      note.focus();
      return;
    }
    if (form.dataset.busy === "1") return;
    form.dataset.busy = "1";
    button.click();
  });
})();
