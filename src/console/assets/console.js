// Gatehouse console: the little that needs a script (no inline script: the CSP forbids it).
// Counts down every <time data-countdown> to its datetime, once a second.
(function () {
  'use strict';
  function format(ms) {
    if (ms <= 0) return 'expired';
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var r = s % 60;
    return (h > 0 ? h + ' h ' : '') + (h > 0 || m > 0 ? m + ' min ' : '') + r + ' s left';
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('time[data-countdown]').forEach(function (el) {
      var end = Date.parse(el.getAttribute('datetime'));
      if (!isNaN(end)) el.textContent = format(end - now);
    });
  }
  // After a form, keyboard and screen-reader users start at what it did (the notice), not at the top.
  function focusNotice() {
    var notice = document.querySelector('[data-focus-on-load]');
    if (notice) notice.focus();
  }
  document.addEventListener('DOMContentLoaded', tick);
  document.addEventListener('DOMContentLoaded', focusNotice);
  document.addEventListener('htmx:afterSettle', tick);
  setInterval(tick, 1000);
})();
