/* The report form's image fingerprints: each chosen image is hashed on this device with
 * pdq.js and only {hash, quality, role} goes into the hidden field. The file inputs have no
 * name, so the browser never submits the files themselves. */
(function () {
  "use strict";
  var field = document.getElementById("media-hashes");
  var status = document.getElementById("hash-status");
  if (!field || !window.RingtracePDQ) return;
  var byRole = { lure: [], own: [] };

  function publish() {
    var all = byRole.lure.concat(byRole.own);
    field.value = JSON.stringify(all);
    var n = all.length;
    status.textContent = n ? n + " image(s) fingerprinted on this device. Nothing was uploaded." : "";
    status.setAttribute("data-count", String(n));
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-role]"), function (input) {
    input.addEventListener("change", function () {
      var role = input.getAttribute("data-role");
      var files = Array.prototype.slice.call(input.files || []);
      status.textContent = "Fingerprinting " + files.length + " image(s) on this device…";
      Promise.all(files.map(function (f) {
        return window.RingtracePDQ.hashFile(f).then(function (h) {
          return { algorithm: "pdq", hash: h.pdq, quality: h.quality, role: role,
                   preprocessing: h.preprocessing };
        }, function () { return null; });
      })).then(function (results) {
        byRole[role] = results.filter(function (r) { return r !== null; });
        // The files are not needed any more: forget them so they cannot be sent by accident.
        input.value = "";
        publish();
        if (results.some(function (r) { return r === null; })) {
          status.textContent += " Some files could not be read as images.";
        }
      });
    });
  });
})();
