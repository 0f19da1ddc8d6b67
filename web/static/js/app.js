// capmatch progressive enhancement. Every page works without this file; it only
//  - marks the page as scripted (html.js) so that no-script-only buttons hide,
//  - on the offer form, shows only the capability groups of the ticked themes,
//  - keeps a running total in the matching weights editor,
//  - moves focus to the error summary after a form came back with errors,
//  - closes the navigation's menus (<details>) on a click elsewhere, on Escape, and when
//    another one opens.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function filterCapabilities(root) {
    var toggles = root.querySelectorAll("[data-theme-toggle]");
    if (!toggles.length) return;
    var on = {};
    var any = false;
    toggles.forEach(function (t) {
      if (t.checked) { on[t.getAttribute("data-theme-toggle")] = true; any = true; }
    });
    root.querySelectorAll("[data-theme-group]").forEach(function (g) {
      var theme = g.getAttribute("data-theme-group");
      var keep = !any || on[theme] || g.querySelector("input:checked");
      g.classList.toggle("off", !keep);
    });
  }

  // The weights editor's running total, so a coordinator sees at once whether the weights
  // add up to 100 % (the server checks it again).
  function weightsTotal() {
    var out = document.getElementById("weights-total");
    if (!out) return;
    var sum = 0, ok = true;
    document.querySelectorAll("[data-weight]").forEach(function (i) {
      var v = parseFloat(String(i.value).replace(",", ".").replace("%", ""));
      if (isNaN(v)) ok = false; else sum += v;
    });
    var fmt = new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 2 });
    out.textContent = ok ? fmt.format(sum) + (document.documentElement.lang === "en" ? "%" : "\u00a0%") : "–";
    out.classList.toggle("bad", !ok || Math.abs(sum - 100) > 1e-9);
  }

  function focusErrors(root) {
    var s = root.querySelector("#error-summary");
    if (s) s.focus();
  }

  function init(root) {
    filterCapabilities(root);
    weightsTotal();
    focusErrors(root);
  }

  document.addEventListener("input", function (e) {
    if (e.target && e.target.hasAttribute && e.target.hasAttribute("data-weight")) weightsTotal();
  });
  document.addEventListener("change", function (e) {
    if (e.target && e.target.hasAttribute && e.target.hasAttribute("data-theme-toggle")) {
      filterCapabilities(document);
    }
  });
  // Navigation menus are <details>: they open and close without this file; with it they
  // behave like menus, one open at a time, closed by a click outside or by Escape.
  function closeMenus(except) {
    document.querySelectorAll(".main-nav details[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (e) {
    var d = e.target && e.target.closest ? e.target.closest(".main-nav details") : null;
    closeMenus(d);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.querySelector(".main-nav details[open]");
    if (!open) return;
    closeMenus(null);
    var s = open.querySelector("summary");
    if (s) s.focus();
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // A form posted to "...#section" comes back scrolled there, and the browser's scroll to the
  // fragment resets the focus: give it back to the errors once the page has loaded.
  window.addEventListener("load", function () { if (location.hash) focusErrors(document); });
  document.addEventListener("htmx:afterSettle", function (e) {
    var t = e.target;
    if (t && t.querySelector) {
      // A swap that brought errors back: show them. Otherwise keep the user's focus.
      if (t.querySelector("#error-summary")) focusErrors(t);
      filterCapabilities(document);
    }
  });
})();
