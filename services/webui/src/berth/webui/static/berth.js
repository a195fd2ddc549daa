// Enhancements only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");

  function copyText(text, button) {
    var done = function () {
      button.classList.add("copied");
      button.textContent = "Copied";
      setTimeout(function () { button.classList.remove("copied"); button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); done(); } finally { document.body.removeChild(area); }
  }

  function liveFilter(input) {
    var target = document.querySelector(input.getAttribute("data-filter-target"));
    if (!target) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.toLowerCase();
      target.querySelectorAll("[data-filter]").forEach(function (row) {
        row.hidden = needle && row.getAttribute("data-filter").toLowerCase().indexOf(needle) === -1;
      });
    });
  }

  function liveSearch(input) {
    var target = document.querySelector(input.getAttribute("data-live-search"));
    var timer = null, seq = 0;
    if (!target) { return; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++seq;
        var url = "/search?partial=1&q=" + encodeURIComponent(input.value.trim());
        fetch(url, { credentials: "same-origin" }).then(function (resp) {
          return resp.ok ? resp.text() : null;
        }).then(function (html) {
          // The fragment is rendered and escaped by the server; stale answers are dropped.
          if (html !== null && mine === seq) { target.innerHTML = html; }
        });
      }, 200);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () { copyText(button.getAttribute("data-copy"), button); });
    });
    document.querySelectorAll("input[data-filter-target]").forEach(liveFilter);
    document.querySelectorAll("input[data-live-search]").forEach(liveSearch);
  });
})();
