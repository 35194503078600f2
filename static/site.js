// Site-wide behaviour, loaded by templates/base.html (the Content-Security-Policy allows
// no inline script):
// - A form sent back with errors moves focus to its error summary, so a screen reader
//   reads the problems out first and a keyboard user starts from them.
// - A link in the summary focuses the field it names; a plain #fragment link only
//   scrolls, and leaves focus where it was.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary[tabindex]");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    var named = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!named) { return; }
    var field = named.matches("input, select, textarea")
      ? named : named.querySelector("input, select, textarea");
    if (!field) { return; }
    event.preventDefault();
    field.focus();
  });
})();
