// Optional enhancements; every page works without this file.
//   Keys: /  focus the search field        j / k   next / previous case in a list (Enter opens it)
//   Report exports: follow the job in place instead of the page refreshing itself, then start the download.
//   8D report preview: a Print button.
(function () {
  "use strict";
  // Marks the page as enhanced (the browser test without JavaScript checks that it is not).
  document.documentElement.setAttribute("data-js", "on");
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

  var job = document.querySelector("[data-export-job]");
  if (job && window.fetch) {
    var id = job.getAttribute("data-export-job");
    var state = job.getAttribute("data-state");
    if (state === "running") {
      var poll = function () {
        fetch(location.pathname, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (v) {
            if (v.state !== "running") { location.reload(); return; }
            var size = document.getElementById("export-size");
            if (size) size.textContent = v.size;
            var bar = document.getElementById("export-progress");
            if (bar && v.percent !== null) bar.value = v.percent;
            setTimeout(poll, 1000);
          })
          .catch(function () { setTimeout(function () { location.reload(); }, 3000); });
      };
      setTimeout(poll, 1000);
    } else if (state === "done" && window.sessionStorage && !sessionStorage.getItem("export-" + id)) {
      // Once per export: the link stays for another copy.
      sessionStorage.setItem("export-" + id, "1");
      var link = document.getElementById("export-download");
      if (link) link.click();
    }
  }
  // The 8D preview's print button: hidden without JavaScript, where the page says to use the browser's Print.
  Array.prototype.forEach.call(document.querySelectorAll("button[data-print]"), function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
})();
