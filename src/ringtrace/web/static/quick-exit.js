/* Quick exit: leave at once, and replace this page in the history so Back does not return
 * to it. Without JavaScript the button is an ordinary link to a neutral page. */
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) return;
  function leave(e) {
    if (e) e.preventDefault();
    document.body.hidden = true;
    window.location.replace(link.href);
  }
  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && e.shiftKey) leave(e);
  });
})();
