// The request page during an export: ask the progress address every few seconds, show it and say it in a polite live
// region, and reload the page once, when the export has finished; the focus stays where the reader left it meanwhile.
// Without this script the page offers a link to refresh it by hand.
(function () {
  "use strict";

  var EVERY_MS = 5000;

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var box = document.querySelector("[data-export-progress]");
    if (!box) return;
    var url = box.getAttribute("data-url");
    var bar = box.querySelector("[data-export-bar]");
    var percent = box.querySelector("[data-export-percent]");
    var stage = box.querySelector("[data-export-stage]");
    var announce = box.querySelector("[data-export-announce]");
    var refresh = box.querySelector("[data-export-refresh]");
    if (refresh) refresh.hidden = true;
    // Announced at each tenth and at each new stage, not at every poll: a screen reader must not chatter.
    var lastTenth = Math.floor(Number(bar ? bar.value : 0) / 10);
    var lastStage = stage ? stage.textContent : "";

    function say(text) {
      if (announce && text) announce.textContent = text;
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          if (data.status !== "exporting") {
            say(data.status_label);
            window.location.replace(window.location.href);  // a GET, even after a form was posted
            return;
          }
          var value = Math.max(0, Math.min(100, Number(data.progress) || 0));
          if (bar) { bar.value = value; bar.textContent = value + "%"; }
          if (percent) percent.textContent = value + "%";
          var stageText = data.stage || "";
          if (stage) stage.textContent = stageText;
          var tenth = Math.floor(value / 10);
          if (tenth !== lastTenth || stageText !== lastStage) {
            say(value + "%" + (stageText ? " · " + stageText : ""));
            lastTenth = tenth;
            lastStage = stageText;
          }
          window.setTimeout(poll, EVERY_MS);
        })
        .catch(function () {
          // The server could not answer: offer the refresh by hand, and keep trying.
          if (refresh) refresh.hidden = false;
          window.setTimeout(poll, EVERY_MS * 2);
        });
    }

    window.setTimeout(poll, EVERY_MS);
  });
})();
