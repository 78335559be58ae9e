/* The ring graph: reports and the keys that link them, drawn with cytoscape and the fcose
 * layout (both bundled from npm at set-up time; no CDN). Colour and shape follow the key's
 * group (the legend on the page uses the same colours, from site.css). Filters hide by group,
 * agency and date; tapping a key shows its neighbourhood (expand), tapping a report opens it.
 * No inline styles: cytoscape draws on a canvas, and its container rule is in site.css.
 * Without the libraries, the tables below the graph say the same. */
(function () {
  "use strict";
  var box = document.getElementById("ring-graph");
  var data = document.getElementById("graph-data");
  if (!box || !data || !window.cytoscape) { if (box) box.hidden = true; return; }
  if (window.cytoscapeFcose) window.cytoscape.use(window.cytoscapeFcose);
  var elements = JSON.parse(data.textContent);
  var GROUPS = {
    report: ["#1d4ed8", "ellipse"], phone: ["#b45309", "diamond"], web: ["#047857", "round-rectangle"],
    money: ["#7c3aed", "star"], handle: ["#be185d", "triangle"], email: ["#0e7490", "hexagon"],
    app: ["#b91c1c", "octagon"], other: ["#4b5563", "vee"]
  };
  var style = [
    { selector: "node", style: { label: "data(label)", "font-size": 8, "text-valign": "bottom",
      "text-margin-y": 2, color: "#1d2433", "text-max-width": 90, "text-wrap": "ellipsis" } },
    { selector: "edge", style: { width: 1, "line-color": "#94a3b8", "curve-style": "haystack" } },
    // Report labels appear as one zooms in; key labels (the infrastructure) always show.
    { selector: "node[kind = 'report']", style: { width: 12, height: 12, "font-size": 7,
      "min-zoomed-font-size": 9 } },
    { selector: "node[kind != 'report']", style: { width: "mapData(degree, 1, 40, 16, 40)",
      height: "mapData(degree, 1, 40, 16, 40)", "font-size": 10, "font-weight": "bold",
      "text-background-color": "#ffffff", "text-background-opacity": 0.8,
      "text-background-padding": 1 } },
    { selector: "node[?restricted]", style: { "background-color": "#cbd5e1", "border-width": 1,
      "border-color": "#64748b" } },
    { selector: "[?excluded]", style: { display: "none", "line-style": "dashed",
      "background-opacity": 0.4 } },
    { selector: ".hidden", style: { display: "none" } },
    { selector: ".faded", style: { opacity: 0.12 } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#111827" } }
  ];
  Object.keys(GROUPS).forEach(function (g) {
    style.splice(3, 0, { selector: "node[group = '" + g + "']",
      style: { "background-color": GROUPS[g][0], shape: GROUPS[g][1] } });
  });
  var cy = window.cytoscape({
    container: box,
    elements: elements.nodes.concat(elements.edges),
    layout: { name: "preset" },
    style: style,
    wheelSensitivity: 0.3
  });
  function layout() {
    var name = window.cytoscapeFcose ? "fcose" : "cose";
    cy.elements(":visible").layout({ name: name, animate: false, randomize: true,
      quality: "default", nodeRepulsion: 6000, idealEdgeLength: 60, nodeSeparation: 40,
      packComponents: true }).run();
  }
  layout();
  window.ringGraph = cy;

  var groups = document.querySelectorAll(".graph-group");
  var agency = document.getElementById("graph-agency");
  var from = document.getElementById("graph-from");
  var to = document.getElementById("graph-to");
  var excluded = document.getElementById("show-excluded");
  var info = document.getElementById("graph-info");
  function apply() {
    var on = {};
    groups.forEach(function (c) { on[c.value] = c.checked; });
    var a = agency ? agency.value : "", f = from ? from.value : "", t = to ? to.value : "";
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        var d = n.data(), hide = on[d.group] === false;
        if (d.kind === "report") {
          hide = hide || (a && d.agency !== a) || (f && d.date < f) || (t && d.date > t);
        } else if (d.excluded) {
          hide = hide || !(excluded && excluded.checked);
        }
        n.toggleClass("hidden", !!hide);
      });
      cy.edges().forEach(function (e) {
        e.toggleClass("hidden", e.source().hasClass("hidden") || e.target().hasClass("hidden") ||
          (e.data("excluded") && !(excluded && excluded.checked)));
      });
      // A key with no report left beside it says nothing: hide it too.
      cy.nodes("[kind != 'report']").forEach(function (k) {
        if (!k.hasClass("hidden") && k.connectedEdges(":visible").length === 0) k.addClass("hidden");
      });
    });
    cy.elements("[?excluded]").style("display", excluded && excluded.checked ? "element" : "none");
    box.setAttribute("data-visible", String(cy.nodes(":visible").length));
  }
  [].forEach.call(groups, function (c) { c.addEventListener("change", apply); });
  [agency, from, to, excluded].forEach(function (el) { if (el) el.addEventListener("change", apply); });

  cy.on("tap", "node[kind = 'report']", function (e) { window.location.href = e.target.data("href"); });
  cy.on("tap", "node[kind != 'report']", function (e) {
    // Expand from a key: its reports, and their other keys, stand out; the rest fades.
    var n = e.target, near = n.closedNeighborhood().closedNeighborhood();
    cy.elements().addClass("faded");
    near.removeClass("faded");
    if (info) {
      info.hidden = false;
      info.querySelector(".what").textContent = n.data("kind") + " " + n.data("label") + " — " +
        n.degree() + " report(s) here";
      info.querySelector("a").href = n.data("href");
    }
  });
  cy.on("tap", function (e) {
    if (e.target === cy) { cy.elements().removeClass("faded"); if (info) info.hidden = true; }
  });
  apply();
  box.setAttribute("data-ready", String(cy.nodes().length));
})();
