// Keeps the signature count on the page current by polling count.json.
(function () {
  "use strict";
  var box = document.querySelector("[data-count-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-count-url");
  var seconds = Math.max(2, parseInt(box.getAttribute("data-refresh"), 10) || 5);
  var figure = box.querySelector("[data-count]");
  var bar = box.querySelector("[data-progress]");
  var meter = box.querySelector("[role=progressbar]");
  // "always": Spanish would otherwise print 1234 without its separator (CLDR's minimum
  // grouping), while the server prints 1.234.
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined,
                                     { useGrouping: "always" });

  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        figure.textContent = format.format(data.signature_count);
        if (bar && data.goal) {
          bar.style.width = Math.min(100, data.signature_count * 100 / data.goal) + "%";
        }
        if (meter) { meter.setAttribute("aria-valuenow", data.signature_count); }
      })
      .catch(function () { /* offline for a moment; try again next tick */ });
  }
  window.setInterval(refresh, seconds * 1000);
})();
