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
    var text =
      missing > 0
        ? missing + ' more ' + (missing === 1 ? 'character' : 'characters') + ' needed (at least ' + min + ').'
        : 'Long enough.';
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
  // The parts htmx updates (the inbox's live list, a rule's check, a sync's progress) have no
  // page of their own to show a failure: #connection-problem says it, until that kind of
  // request succeeds again (a live stream that reopens, a request that gets its answer).
  var problems = { request: '', live: '' };
  function setProblem(kind, text) {
    problems[kind] = text;
    var el = document.getElementById('connection-problem');
    if (!el) return;
    var shown = [problems.live, problems.request].filter(Boolean).join(' ');
    el.textContent = shown;
    el.hidden = !shown;
  }
  document.addEventListener('htmx:sendError', function () {
    setProblem(
      'request',
      'Gatehouse could not be reached: this page may be out of date. Check the network, then reload.',
    );
  });
  document.addEventListener('htmx:responseError', function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : '';
    setProblem(
      'request',
      'Gatehouse answered with an error (' + status + '): this page may be out of date. Reload to try again.',
    );
  });
  document.addEventListener('htmx:afterRequest', function (event) {
    if (event.detail && event.detail.successful) setProblem('request', '');
  });
  document.addEventListener('htmx:sseError', function () {
    setProblem('live', 'Live updates are interrupted: new requests do not appear until they are back. Trying again…');
  });
  document.addEventListener('htmx:sseOpen', function () {
    setProblem('live', '');
  });
  // A <details data-open-when-wide> (the audit trail's search) is folded on a phone, where its
  // fields would fill the first screen, and opened on a wide screen, where they fit beside each other.
  function openWhenWide() {
    if (!window.matchMedia('(min-width: 48rem)').matches) return;
    document.querySelectorAll('details[data-open-when-wide]').forEach(function (el) {
      el.open = true;
    });
  }
  document.addEventListener('DOMContentLoaded', openWhenWide);
  document.addEventListener('DOMContentLoaded', tick);
  document.addEventListener('DOMContentLoaded', focusNotice);
  document.addEventListener('htmx:afterSettle', tick);
  setInterval(tick, 1000);
})();
