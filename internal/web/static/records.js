// Record forms: add a row to a nested list (a record book's entries, a suggestion's items…) and
// grey out a row marked for removal. Without this script each form offers one blank row.
(function () {
  "use strict";
  function addRow(name) {
    var table = document.getElementById("items-" + name);
    var tpl = document.getElementById("tpl-" + name);
    if (!table || !tpl) { return; }
    var next = parseInt(table.getAttribute("data-next") || "0", 10);
    var html = tpl.innerHTML.split("__i__").join(String(next));
    table.setAttribute("data-next", String(next + 1));
    var body = table.tBodies[0];
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    while (holder.firstElementChild) {
      body.appendChild(holder.firstElementChild);
    }
    var first = body.lastElementChild && body.lastElementChild.querySelector("input, select");
    if (first) { first.focus(); }
  }
  // A picker shows the name of the person or department its id names (the server does the
  // same when it draws the form).
  function showName(input) {
    var list = input.list;
    var label = "";
    if (list) {
      for (var i = 0; i < list.options.length; i++) {
        if (list.options[i].value === input.value.trim()) { label = list.options[i].textContent; break; }
      }
    }
    var hint = input.nextElementSibling;
    if (!hint || !hint.classList.contains("pick-name")) {
      hint = document.createElement("span");
      hint.className = "pick-name";
      input.parentNode.insertBefore(hint, input.nextSibling);
    }
    hint.textContent = label;
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.classList && e.target.classList.contains("picker")) { showName(e.target); }
  });
  document.addEventListener("change", function (e) {
    if (e.target && e.target.classList && e.target.classList.contains("picker")) { showName(e.target); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button.add-row").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { addRow(b.getAttribute("data-add")); });
    });
    document.addEventListener("change", function (e) {
      var t = e.target;
      if (t && t.type === "checkbox" && /\._drop$/.test(t.name)) {
        var row = t.closest("tr");
        if (row) { row.classList.toggle("dropped", t.checked); }
      }
    });
  });
})();
