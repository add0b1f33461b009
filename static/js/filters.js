// A list's search and filters fold away on a phone, where they would fill the first screen; on a wider
// screen they are open from the start and the toggle is hidden.
(function () {
  "use strict";
  if (!window.matchMedia("(min-width: 801px)").matches) return;
  document.querySelectorAll("details.filters-fold").forEach(function (details) {
    details.open = true;
    details.classList.add("filters-wide");
  });
})();
