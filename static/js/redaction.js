// The redaction review screen: drag across the frame shown to draw a box; its place, in the footage's own pixels,
// fills the region form (camera, moment, left, top, width, height). Without this script the form is filled by hand.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var figure = document.querySelector("[data-redaction-frame]");
    var form = document.querySelector("[data-region-form]");
    if (!figure || !form) return;
    var image = figure.querySelector("[data-redaction-image]");
    var box = document.createElement("div");
    box.className = "redaction-box";
    box.hidden = true;
    figure.appendChild(box);
    var start = null;

    function field(name) {
      return form.querySelector("[name='" + name + "']");
    }

    function point(event) {
      var rect = image.getBoundingClientRect();
      return {
        x: Math.max(0, Math.min(rect.width, event.clientX - rect.left)),
        y: Math.max(0, Math.min(rect.height, event.clientY - rect.top)),
        scale: image.naturalWidth / rect.width
      };
    }

    function show(a, b) {
      box.hidden = false;
      box.style.left = image.offsetLeft + Math.min(a.x, b.x) + "px";
      box.style.top = image.offsetTop + Math.min(a.y, b.y) + "px";
      box.style.width = Math.abs(a.x - b.x) + "px";
      box.style.height = Math.abs(a.y - b.y) + "px";
    }

    image.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      start = point(event);
      image.setPointerCapture(event.pointerId);
    });
    image.addEventListener("pointermove", function (event) {
      if (start) show(start, point(event));
    });
    image.addEventListener("pointerup", function (event) {
      if (!start) return;
      var end = point(event);
      show(start, end);
      var s = start.scale;
      var values = {
        item: figure.getAttribute("data-item"),
        at: figure.getAttribute("data-at"),
        x: Math.round(Math.min(start.x, end.x) * s),
        y: Math.round(Math.min(start.y, end.y) * s),
        width: Math.max(1, Math.round(Math.abs(start.x - end.x) * s)),
        height: Math.max(1, Math.round(Math.abs(start.y - end.y) * s))
      };
      Object.keys(values).forEach(function (name) {
        var input = field(name);
        if (input) input.value = values[name];
      });
      start = null;
      var label = field("label");
      if (label) label.focus();
    });
  });
})();
