// Optional keyboard shortcuts; every page works without this file.
//   /      focus the search field        j / k   next / previous case in a list (Enter opens it)
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e)) return;
    if (e.key === "/") {
      var search = document.querySelector("input[type=search]");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (e.key !== "j" && e.key !== "k") return;
    var links = Array.prototype.slice.call(document.querySelectorAll("table[data-keys] tbody tr td:first-child a"));
    if (!links.length) return;
    var at = links.indexOf(document.activeElement);
    var next = e.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    e.preventDefault();
    links[next].focus();
  });
})();
