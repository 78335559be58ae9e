/* The report form, enhanced: one step at a time with Back and Next (every step can be
 * skipped, and the report can be sent from any step), crisis contacts as soon as they are
 * relevant, and image fingerprints computed on this device with pdq.js. Only
 * {hash, quality, role} goes into the hidden field. The fingerprint file inputs have no
 * name, so the browser never submits the files themselves. Without JavaScript the form is
 * one long page and works the same, except for the fingerprints. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;

  // Steps
  var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step"));
  var nav = document.getElementById("step-nav");
  var count = document.getElementById("step-count");
  var at = 0;
  function show(i) {
    at = Math.max(0, Math.min(steps.length - 1, i));
    steps.forEach(function (s, k) { s.hidden = k !== at; });
    document.getElementById("prev").disabled = at === 0;
    document.getElementById("next").hidden = at === steps.length - 1;
    count.textContent = (at + 1) + " / " + steps.length;
    var first = steps[at].querySelector("input, select, textarea");
    if (first && document.activeElement && document.activeElement.id !== "report-form") first.focus();
  }
  if (nav && steps.length) {
    nav.hidden = false;
    document.getElementById("next").addEventListener("click", function () { show(at + 1); });
    document.getElementById("prev").addEventListener("click", function () { show(at - 1); });
    show(0);
  }

  // Crisis contacts, at once
  var crisis = document.getElementById("crisis");
  var age = document.getElementById("age_band");
  var narrative = document.getElementById("narrative");
  var phrases = (crisis && crisis.getAttribute("data-phrases") || "").split("|").filter(Boolean);
  function checkCrisis() {
    if (!crisis) return;
    var text = (narrative && narrative.value || "").toLowerCase();
    var risk = phrases.some(function (p) { return text.indexOf(p.toLowerCase()) >= 0; });
    if ((age && age.value === "under-18") || risk) crisis.hidden = false;
  }
  if (age) age.addEventListener("change", checkCrisis);
  if (narrative) narrative.addEventListener("input", checkCrisis);

  // Fingerprints
  var field = document.getElementById("media-hashes");
  var status = document.getElementById("hash-status");
  if (!field || !window.RingtracePDQ) return;
  var byRole = { lure: [], own: [] };
  function publish() {
    var all = byRole.lure.concat(byRole.own);
    field.value = JSON.stringify(all);
    status.textContent = all.length ? all.length + " " + status.getAttribute("data-done") : "";
    status.setAttribute("data-count", String(all.length));
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-role]"), function (input) {
    input.addEventListener("change", function () {
      var role = input.getAttribute("data-role");
      var files = Array.prototype.slice.call(input.files || []);
      status.textContent = "…";
      Promise.all(files.map(function (f) {
        return window.RingtracePDQ.hashFile(f).then(function (h) {
          return { algorithm: "pdq", hash: h.pdq, quality: h.quality, role: role,
                   preprocessing: h.preprocessing };
        }, function () { return null; });
      })).then(function (results) {
        byRole[role] = results.filter(function (r) { return r !== null; });
        input.value = ""; // forget the files so they cannot be sent by accident
        publish();
      });
    });
  });
})();
