/* Exit this page (the GOV.UK pattern): the red button, or Shift+Esc, hides the page at once
 * and replaces it with a neutral one. Loaded in <head>, before anything of the page is shown,
 * so that coming back with Back or Forward after an exit shows nothing of this site: the
 * page sees it was reached from history after an exit and leaves again straight away.
 * It also tells this site to forget the receipt and the opened report on this device.
 * Without JavaScript the button is an ordinary link to a neutral page. */
(function () {
  "use strict";
  var NEUTRAL = "https://www.google.com/search?q=weather";
  var KEY = "rt-exited";
  var root = document.documentElement;
  function flagged() {
    try { return window.sessionStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function fromHistory() {
    try {
      var nav = window.performance.getEntriesByType("navigation")[0];
      return !!nav && nav.type === "back_forward";
    } catch (e) { return false; }
  }
  function away(url) {
    root.classList.add("exiting");
    window.location.replace(url || NEUTRAL);
  }
  if (flagged()) {
    if (fromHistory()) { away(); return; }
    // Arrived on purpose (a link, the address bar): the site works as usual again.
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
  }
  window.addEventListener("pageshow", function (e) { if (e.persisted && flagged()) away(); });
  function leave(e) {
    if (e) e.preventDefault();
    try { window.sessionStorage.setItem(KEY, "1"); } catch (err) { /* private mode */ }
    // Forget the receipt and the opened report on this device (same site; does not wait).
    try { if (navigator.sendBeacon) navigator.sendBeacon("/exit"); } catch (err) { /* no beacon */ }
    var link = document.getElementById("quick-exit");
    away(link ? link.href : NEUTRAL);
  }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && e.shiftKey) leave(e);
  });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.closest && t.closest("#quick-exit")) leave(e);
  });
})();
