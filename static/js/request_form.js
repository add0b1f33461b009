// The request form: search cameras, add rows. Works without it too. The legal basis is applied with its own button,
// never on change: arrowing through the list with the keyboard must not submit the page at each step.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var rows = document.querySelector("[data-item-rows]");
    var template = document.getElementById("item-template");
    var addButton = document.querySelector("[data-add-item]");
    var total = document.querySelector("input[name='items-TOTAL_FORMS']");
    if (rows && template && addButton && total) {
      addButton.hidden = false;
      addButton.addEventListener("click", function () {
        var index = parseInt(total.value, 10);
        var wrapper = document.createElement("div");
        wrapper.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
        var row = wrapper.firstElementChild;
        rows.appendChild(row);
        total.value = String(index + 1);
        var first = row.querySelector("input.camera-code");
        if (first) first.focus();
      });
    }

    var options = document.getElementById("camera-options");
    var urlHolder = document.getElementById("camera-search-url");
    if (!options || !urlHolder) return;
    var note = document.querySelector("[data-picker-note]");
    if (note) note.hidden = false;
    var url = urlHolder.getAttribute("data-url");
    var timer = null;
    var lastQuery = null;
    document.addEventListener("input", function (event) {
      var input = event.target;
      if (!input.classList || !input.classList.contains("camera-code")) return;
      var query = input.value.trim();
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (query === lastQuery) return;
        lastQuery = query;
        fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            options.textContent = "";
            data.results.forEach(function (camera) {
              var option = document.createElement("option");
              option.value = camera.code;
              option.label = camera.code + " — " + camera.name + " (" + camera.area + ")";
              options.appendChild(option);
            });
          })
          .catch(function () { /* the officer can still type the code */ });
      }, 200);
    });
  });
})();
