// On every page: after a failed submit, take the focus to the summary of what is wrong (or to the message saying why
// an action was refused), and let the summary's links focus their field.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      var refused = document.querySelector(".messages .message-error");
      if (refused) {
        refused.setAttribute("tabindex", "-1");
        refused.focus();
      }
      return;
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (!field) return;
      event.preventDefault();
      var label = document.querySelector("label[for='" + field.id + "']");
      (label || field).scrollIntoView({ block: "center" });
      field.focus();
    });
  });
})();
