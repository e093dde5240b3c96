// kept.js: small progressive enhancements. Pages work without it.
// Times arrive in UTC inside <time datetime="...">; show them in the
// reader's own time zone.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  function localise(root) {
    var nodes = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var d = new Date(nodes[i].getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        nodes[i].title = nodes[i].textContent;
        nodes[i].textContent = fmt.format(d);
      }
    }
  }
  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  document.addEventListener("htmx:afterSettle", function (e) { localise(e.target); });
})();
// Countdowns to promise deadlines, kept current without reloading.
(function () {
  "use strict";
  function span(ms) {
    var m = Math.floor(Math.abs(ms) / 60000);
    if (m < 90) return m + " min";
    if (m < 2880) return Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
    return Math.floor(m / 1440) + " d " + Math.floor((m % 1440) / 60) + " h";
  }
  function tick() {
    var nodes = document.querySelectorAll(".countdown[data-due]");
    for (var i = 0; i < nodes.length; i++) {
      var due = new Date(nodes[i].getAttribute("data-due")).getTime();
      if (isNaN(due)) continue;
      var left = due - Date.now();
      var inQueue = nodes[i].closest("td") !== null;
      nodes[i].textContent = left > 0 ? (inQueue ? "in " : "due in ") + span(left) : "overdue by " + span(left);
      nodes[i].classList.toggle("overdue", left <= 0);
    }
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 30000); });
  document.addEventListener("htmx:afterSettle", tick);
})();
