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
  // A <textarea data-min-chars="N"> (a break-glass reason) is checked as one types: its
  // [data-chars-for=ID] says how many characters are still needed, and the form is not sent
  // before N (the server checks again with the same rule).
  function checkLength(field) {
    var min = Number(field.getAttribute('data-min-chars'));
    var missing = min - field.value.trim().length;
    var text = missing > 0 ? missing + ' more character(s) needed (at least ' + min + ').' : 'Long enough.';
    field.setCustomValidity(missing > 0 ? 'Give at least ' + min + ' characters saying why this cannot wait.' : '');
    var status = document.querySelector('[data-chars-for="' + field.id + '"]');
    if (status) status.textContent = text;
  }
  document.addEventListener('input', function (event) {
    if (event.target.matches && event.target.matches('textarea[data-min-chars]')) checkLength(event.target);
  });
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('textarea[data-min-chars]').forEach(checkLength);
  });
  document.addEventListener('DOMContentLoaded', tick);
  document.addEventListener('DOMContentLoaded', focusNotice);
  document.addEventListener('htmx:afterSettle', tick);
  setInterval(tick, 1000);
})();
