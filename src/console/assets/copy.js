// Gatehouse console: copy buttons (no inline script: the CSP forbids it).
// A <button data-copy="ID"> copies the text of #ID; <… data-copy-status="ID"> says whether it worked.
(function () {
  'use strict';
  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) status.textContent = text;
  }
  // Without the clipboard API (plain http on another host than localhost), the text is
  // selected instead, so that Ctrl+C or a long press copies it.
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-copy]');
    if (!button) return;
    var id = button.getAttribute('data-copy');
    var source = document.getElementById(id);
    if (!source) return;
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () {
          say(id, 'Copied.');
        },
        function () {
          selectText(source);
          say(id, 'Could not copy: the text is selected, copy it with your keyboard.');
        },
      );
    } else {
      selectText(source);
      say(id, 'The text is selected: copy it with your keyboard.');
    }
  });
})();
