// camfleet's own page behaviour. The Content-Security-Policy allows no inline script or handler
// (config/settings/base.py): every page's behaviour lives here, delegated from the document, so
// it also reaches content that htmx swaps in later.
"use strict";

// Copy buttons (data-copy-target="<input id>"): the text is selected either way, and the button
// says "Copied" (data-copied-label) only when the browser really copied it (the clipboard API
// needs HTTPS).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  var field = button && document.getElementById(button.dataset.copyTarget);
  if (!field) { return; }
  field.focus();
  field.select();
  var copied = function () { button.textContent = button.dataset.copiedLabel; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(copied, function () {});
  } else if (document.execCommand("copy")) {
    copied();
  }
});

// A dialog opened from a "…" menu item: on closing, focus goes back to that menu's button
// instead of being lost to the page (the menu item is hidden by then).
document.addEventListener("show.bs.modal", function (event) {
  var menu = event.relatedTarget && event.relatedTarget.closest(".dropdown");
  event.target.camfleetOpener = menu && menu.querySelector("[data-bs-toggle=dropdown]");
});
document.addEventListener("hidden.bs.modal", function (event) {
  if (event.target.camfleetOpener) { event.target.camfleetOpener.focus(); }
});

// "Go back" links (data-history-back): back in history when there is a page to go back to;
// otherwise the link's own address.
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-history-back]");
  if (!link || window.history.length < 2) { return; }
  event.preventDefault();
  window.history.back();
});
