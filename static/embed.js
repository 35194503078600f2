// Petition embeds for article pages. Include once, anywhere on the page:
//   <script src="https://PETITIONS/embed.js" async></script>
// Every <a class="petition" href="https://PETITIONS/petitions/<slug>"> pointing at the
// site this script came from becomes the petition's live card in an <iframe>. Without
// JavaScript (or for links elsewhere) the plain link stays and still works.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0 && !script; i--) {
      if (/\/embed\.js(?:[?#]|$)/.test(scripts[i].src)) { script = scripts[i]; }
    }
  }
  if (!script || !window.URL) { return; }
  var origin = new URL(script.src, location.href).origin;
  var PATH = /^\/petitions\/([A-Za-z0-9_~.%-]+)\/?$/;
  var frames = [];

  function embed(link) {
    if (link.getAttribute("data-petition-embedded")) { return; }
    var target;
    try { target = new URL(link.getAttribute("href") || "", location.href); } catch (e) { return; }
    var match = PATH.exec(target.pathname);
    if (target.origin !== origin || !match) { return; }
    link.setAttribute("data-petition-embedded", "1");
    var frame = document.createElement("iframe");
    frame.src = origin + "/petitions/" + match[1] + "/embed";
    frame.title = (link.getAttribute("title") || link.textContent || "").trim() || "Petition";
    frame.setAttribute("loading", "lazy");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.className = "petition-embed";
    frame.width = "100%";
    frame.height = "210";
    frame.style.cssText = "display:block;width:100%;max-width:34rem;height:210px;border:0;margin:1em 0;";
    link.parentNode.replaceChild(frame, link);
    frames.push(frame);
  }

  function run() {
    var links = document.querySelectorAll("a.petition[href]");
    for (var j = 0; j < links.length; j++) { embed(links[j]); }
  }

  // The card reports its height so the iframe fits it without a scroll bar.
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== "petition-embed:height") { return; }
    var height = Math.min(2000, Math.max(80, parseInt(data.height, 10) || 0));
    for (var k = 0; k < frames.length; k++) {
      if (frames[k].contentWindow === event.source) {
        frames[k].style.height = height + "px";
        frames[k].height = String(height);
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
