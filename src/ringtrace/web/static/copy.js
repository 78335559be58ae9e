/* Copy buttons on the receipt and status pages (hidden without JavaScript, where the text can
 * still be selected, and the reference and code saved as a file). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = button.getAttribute("data-copy");
      var text = source ? document.getElementById(source).value : button.getAttribute("data-copy-text");
      navigator.clipboard.writeText(text || "").then(function () {
        var label = button.textContent;
        button.textContent = button.getAttribute("data-copied");
        window.setTimeout(function () { button.textContent = label; }, 2500);
      }, function () { /* the text stays on the page to select by hand */ });
    });
  });
})();
