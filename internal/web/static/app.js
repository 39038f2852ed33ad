// dutycheck pages: the few things plain HTML cannot do. Everything works without this script.
(function () {
  "use strict";

  // A running scan: poll its JSON and reload the page when it is no longer running.
  function pollScan(box) {
    var url = box.getAttribute("data-poll");
    var bar = document.getElementById("scan-progress");
    var label = document.getElementById("scan-progress-text");
    var fmt = label ? label.getAttribute("data-fmt") : "";
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (sc) {
          if (sc.status !== "running") {
            window.location.reload();
            return;
          }
          var p = sc.progress || {};
          if (bar && p.total > 0) {
            bar.max = p.total;
            bar.value = p.done;
          }
          if (label && fmt) {
            label.textContent = fmt.replace("{done}", p.done || 0).replace("{total}", p.total || 0);
          }
          window.setTimeout(tick, 700);
        })
        .catch(function () { window.setTimeout(tick, 2000); });
    }
    window.setTimeout(tick, 400);
  }

  // The Rego editor: Tab inserts a tab instead of leaving the field (Esc, then Tab, leaves).
  function tabbable(area) {
    var escaped = false;
    area.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { escaped = true; return; }
      if (e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey || escaped) { escaped = false; return; }
      e.preventDefault();
      var s = area.selectionStart, t = area.selectionEnd;
      area.value = area.value.slice(0, s) + "\t" + area.value.slice(t);
      area.selectionStart = area.selectionEnd = s + 1;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-poll]");
    if (box) { pollScan(box); }
    document.querySelectorAll("textarea.code").forEach(tabbable);
    var outcome = document.getElementById("outcome") || document.getElementById("impact");
    if (outcome) { outcome.scrollIntoView({ block: "start" }); }
  });
})();
