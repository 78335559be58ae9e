/* The report form, enhanced: one step at a time with Back and Next (every step can be
 * skipped, and the report can be sent from any step), crisis contacts as soon as they are
 * relevant, and image fingerprints computed on this device with pdq.js. Only
 * {hash, quality, role} goes into the hidden field. The fingerprint file inputs have no
 * name, so the browser never submits the files themselves. Without JavaScript the form is
 * one long page and works the same, except for the fingerprints. Nothing takes the focus
 * or scrolls when the page opens: the guidance and the exit button come first. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;

  // Steps
  var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step"));
  var nav = document.getElementById("step-nav");
  var count = document.getElementById("step-count");
  var at = 0;
  function show(i, moved) {
    at = Math.max(0, Math.min(steps.length - 1, i));
    steps.forEach(function (s, k) { s.hidden = k !== at; });
    document.getElementById("prev").disabled = at === 0;
    document.getElementById("next").hidden = at === steps.length - 1;
    count.textContent = (at + 1) + " / " + steps.length;
    // Only when the person moved: the new step's legend is read out, the page stays put.
    if (moved) steps[at].focus({ preventScroll: false });
  }
  if (nav && steps.length) {
    nav.hidden = false;
    document.getElementById("next").addEventListener("click", function () { show(at + 1, true); });
    document.getElementById("prev").addEventListener("click", function () { show(at - 1, true); });
    show(0, false);
  }

  // Crisis contacts, at once, with the numbers of the country chosen
  var crisis = document.getElementById("crisis");
  var age = document.getElementById("age_band");
  var country = document.getElementById("country");
  var narrative = document.getElementById("narrative");
  var phrases = (crisis && crisis.getAttribute("data-phrases") || "").split("|").filter(Boolean);
  function showLines() {
    if (!crisis) return;
    var chosen = country && country.value;
    var core = ["HK", "SG", "MY"];
    Array.prototype.forEach.call(crisis.querySelectorAll(".crisis-lines"), function (el) {
      var c = el.getAttribute("data-country");
      el.hidden = chosen ? c !== chosen : core.indexOf(c) < 0;
    });
  }
  function checkCrisis() {
    if (!crisis) return;
    var text = (narrative && narrative.value || "").toLowerCase();
    var risk = phrases.some(function (p) { return text.indexOf(p.toLowerCase()) >= 0; });
    if ((age && age.value === "under-18") || risk) {
      crisis.hidden = false;
      // The help may be above the screen while they type: say so where they are.
      var nudge = document.getElementById("crisis-nudge");
      if (nudge) nudge.hidden = false;
    }
    showLines();
  }
  if (age) age.addEventListener("change", checkCrisis);
  if (country) country.addEventListener("change", checkCrisis);
  if (narrative) narrative.addEventListener("input", checkCrisis);

  // Fingerprints: a list of what was fingerprinted, each with a way to remove it
  var field = document.getElementById("media-hashes");
  var status = document.getElementById("hash-status");
  var list = document.getElementById("fingerprints");
  if (!field || !window.RingtracePDQ) return;
  var max = parseInt(status.getAttribute("data-max"), 10) || 20;
  var items = [];
  function publish() {
    field.value = JSON.stringify(items.map(function (it) { return it.hash; }));
    status.textContent = items.length ? items.length + " " + status.getAttribute("data-done") : "";
    status.setAttribute("data-count", String(items.length));
    list.textContent = "";
    items.forEach(function (it, k) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = it.name + " (" + list.getAttribute("data-" + it.hash.role) + ")";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary small";
      remove.textContent = list.getAttribute("data-remove");
      remove.setAttribute("aria-label", list.getAttribute("data-remove") + ": " + it.name);
      remove.addEventListener("click", function () { items.splice(k, 1); publish(); status.focus(); });
      li.appendChild(label);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(remove);
      list.appendChild(li);
    });
  }
  status.setAttribute("tabindex", "-1");
  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-role]"), function (input) {
    input.addEventListener("change", function () {
      var role = input.getAttribute("data-role");
      var files = Array.prototype.slice.call(input.files || []);
      status.textContent = "…";
      Promise.all(files.map(function (f) {
        return window.RingtracePDQ.hashFile(f).then(function (h) {
          return { name: f.name, hash: { algorithm: "pdq", hash: h.pdq, quality: h.quality, role: role,
                   preprocessing: h.preprocessing } };
        }, function () { return null; });
      })).then(function (results) {
        input.value = ""; // forget the files so they cannot be sent by accident
        var have = items.filter(function (it) { return it.hash.role === role; }).length;
        var dropped = 0;
        results.forEach(function (r) {
          if (r === null) return;
          if (have >= max) { dropped += 1; return; }
          items.push(r);
          have += 1;
        });
        publish();
        if (dropped) status.textContent = status.getAttribute("data-too-many");
      });
    });
  });
})();
