// A part of a page that is still changing (a report or a bundle being built, a verification under way), marked
// data-live-refresh="<seconds>" with an id: the page is fetched again in the background every few seconds and that
// part alone is replaced, its [data-live-announce] text said in a polite live region; once the fresh page no longer
// marks the part as changing, the page is reloaded once. The focus stays where the reader left it meanwhile (a part
// holding the focus is left alone until it is let go). Without this script the part offers a link to refresh by hand.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  function text(node) {
    var said = node && node.querySelector("[data-live-announce]");
    return said ? said.textContent.replace(/\s+/g, " ").trim() : "";
  }

  ready(function () {
    var parts = document.querySelectorAll("[data-live-refresh][id]");
    if (!parts.length) return;
    var voice = document.createElement("p");
    voice.className = "visually-hidden";
    voice.setAttribute("aria-live", "polite");
    document.body.appendChild(voice);

    Array.prototype.forEach.call(parts, function (part) {
      var every = Math.max(2, Number(part.getAttribute("data-live-refresh")) || 5) * 1000;
      var id = part.id;
      var hand = part.querySelectorAll("[data-live-manual]");
      Array.prototype.forEach.call(hand, function (link) { link.hidden = true; });

      function poll() {
        fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
          .then(function (response) {
            if (!response.ok) throw new Error(String(response.status));
            return response.text();
          })
          .then(function (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
            if (!fresh || !fresh.hasAttribute("data-live-refresh")) {
              window.location.replace(window.location.href);  // a GET, even after a form was posted
              return;
            }
            var current = document.getElementById(id);
            if (current && !current.contains(document.activeElement)) {
              var before = text(current);
              var copy = document.importNode(fresh, true);
              Array.prototype.forEach.call(copy.querySelectorAll("[data-live-manual]"), function (link) { link.hidden = true; });
              current.replaceWith(copy);
              var after = text(copy);
              if (after && after !== before) voice.textContent = after;
            }
            window.setTimeout(poll, every);
          })
          .catch(function () {
            // The server could not answer: offer the refresh by hand, and keep trying.
            var current = document.getElementById(id);
            if (current) {
              Array.prototype.forEach.call(current.querySelectorAll("[data-live-manual]"), function (link) { link.hidden = false; });
            }
            window.setTimeout(poll, every * 2);
          });
      }

      window.setTimeout(poll, every);
    });
  });
})();
