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
  // A refused request (signed out, a stale form) is not swapped in by htmx: say so, and let
  // the keys work again, instead of a page that silently stops answering.
  document.addEventListener("htmx:responseError", function (event) {
    var form = keyForm();
    if (form) delete form.dataset.busy;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("p");
      box.id = "request-error";
      box.className = "flash error";
      box.setAttribute("role", "alert");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = status === 401
      ? "已退出登录，请刷新页面重新登录 (signed out: reload the page and sign in)"
      : "请求被拒绝，请刷新页面 (refused, HTTP " + status + "): reload the page to see why";
  });
})();
