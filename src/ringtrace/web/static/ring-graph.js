/* The ring graph: reports and the keys that link them, drawn with cytoscape (bundled from
 * npm at set-up time; no CDN). Without it, the tables below the graph say the same. */
(function () {
  "use strict";
  var box = document.getElementById("ring-graph");
  var data = document.getElementById("graph-data");
  if (!box || !data || !window.cytoscape) { if (box) box.hidden = true; return; }
  var elements = JSON.parse(data.textContent);
  var cy = window.cytoscape({
    container: box,
    elements: elements.nodes.concat(elements.edges),
    layout: { name: "cose", animate: false, randomize: false },
    style: [
      { selector: "node[kind = 'report']", style: { "background-color": "#1d4ed8", label: "data(label)", "font-size": 8, width: 14, height: 14 } },
      { selector: "node[kind != 'report']", style: { "background-color": "#b45309", shape: "diamond", label: "data(label)", "font-size": 9, width: 18, height: 18 } },
      { selector: "edge", style: { width: 1, "line-color": "#94a3b8" } },
      { selector: "[?excluded]", style: { display: "none", "line-style": "dashed", "background-color": "#9ca3af" } }
    ]
  });
  window.ringGraph = cy;
  cy.on("tap", "node[kind = 'report']", function (e) { window.location.href = e.target.data("href"); });
  var toggle = document.getElementById("show-excluded");
  if (toggle) toggle.addEventListener("change", function () {
    cy.elements("[?excluded]").style("display", toggle.checked ? "element" : "none");
  });
  box.setAttribute("data-ready", String(cy.nodes().length));
})();
