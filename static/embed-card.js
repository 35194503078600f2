// The framable petition card (templates/embed/petition.html): keeps its count live by
// polling count.json (the browser's HTTP cache honours Cache-Control and revalidates
// with the ETag, so an unchanged count costs a 304), and tells the page framing it how
// tall it is (embed.js listens for that message and sizes the iframe).
(function () {
  "use strict";
  var card = document.querySelector(".embed-card[data-count-url]");
  if (!card) { return; }
  var url = card.getAttribute("data-count-url");
  var seconds = Math.max(2, parseInt(card.getAttribute("data-refresh"), 10) || 5);
  var figure = card.querySelector("[data-count]");
  var bar = card.querySelector("[data-progress]");
  var meter = card.querySelector("[role=progressbar]");
  var open = card.querySelector("[data-open]");
  var closed = card.querySelector("[data-closed]");
  var format = window.Intl ? new Intl.NumberFormat(document.documentElement.lang || undefined,
                                                              { useGrouping: "always" }) : null;
  var lastHeight = 0;

  function tellHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height && height !== lastHeight && window.parent !== window) {
      lastHeight = height;
      window.parent.postMessage({ type: "petition-embed:height", height: height }, "*");
    }
  }

  function show(data) {
    if (!data || typeof data.signature_count !== "number") { return; }
    figure.textContent = format ? format.format(data.signature_count) : data.signature_count;
    if (bar && data.goal) {
      bar.style.width = Math.min(100, data.signature_count * 100 / data.goal) + "%";
    }
    if (meter) { meter.setAttribute("aria-valuenow", data.signature_count); }
    if (data.state && data.state !== "open" && open && closed) {
      open.hidden = true;
      closed.hidden = false;
      tellHeight();
    }
  }

  function refresh() {
    if (document.hidden || !window.fetch) { return; }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(show)
      .catch(function () { /* offline for a moment; try again next tick */ });
  }

  tellHeight();
  window.addEventListener("load", tellHeight);
  window.addEventListener("resize", tellHeight);
  window.setInterval(refresh, seconds * 1000);
})();

// Share links on the petition page (templates/signing/_share.html): the copy button
// appears only where the Clipboard API exists; the address stays visible as text anyway.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy-text]");
  if (!buttons.length || !navigator.clipboard || !window.isSecureContext) { return; }
  Array.prototype.forEach.call(buttons, function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy-text")).then(function () {
        button.textContent = button.getAttribute("data-copied") || label;
        window.setTimeout(function () { button.textContent = label; }, 2500);
      }, function () { /* refused: the address is shown as text to copy by hand */ });
    });
  });
})();
