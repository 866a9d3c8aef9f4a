// The graph view: Cytoscape.js with the dagre layered layout, left to right in data-flow order.
// Readability at a few hundred nodes comes from dagre's layering (ranks are pipeline steps),
// label sizes counted in the layout, short labels, and labels hidden when zoomed far out.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import { KINDS, flow, kindOf } from "./kinds.js";

cytoscape.use(dagre);

const IMPACT = { serving: "#c0392b", past: "#e6a100", path: "#c0392b" };

function styles() {
  const rules = [
    {
      selector: "node",
      style: {
        width: 26,
        height: 26,
        label: "data(short)",
        "font-size": 12,
        "font-family": "system-ui, sans-serif",
        color: "#1d2327",
        "text-valign": "bottom",
        "text-margin-y": 4,
        "text-wrap": "ellipsis",
        "text-max-width": "120px",
        "min-zoomed-font-size": 5, // hide labels only when zoomed far out over hundreds of nodes
        "border-width": 1,
        "border-color": "#ffffff",
      },
    },
    {
      selector: "edge",
      style: {
        width: 1.2,
        "line-color": "#b7bec6",
        "target-arrow-color": "#b7bec6",
        "target-arrow-shape": "triangle",
        "arrow-scale": 0.8,
        "curve-style": "bezier",
        label: "data(type)",
        "font-size": 8,
        color: "#7a838c",
        "text-rotation": "autorotate",
        "min-zoomed-font-size": 10,
      },
    },
    { selector: "edge.inferred", style: { "line-style": "dashed" } },
    // Column mode (issue 36): an INDIRECT column edge (a filter, a join key) is dashed.
    { selector: "edge.indirect", style: { "line-style": "dashed", "line-dash-pattern": [6, 3] } },
    { selector: "edge.synthetic", style: { "line-style": "dotted", label: "" } },
    { selector: "edge.declared", style: { "line-style": "dashed", "line-dash-pattern": [2, 4], "line-color": "#8e7cc3", "target-arrow-color": "#8e7cc3" } },
    { selector: "edge.level", style: { label: "data(support)", width: "mapData(support, 1, 100, 1.2, 5)" } },
    { selector: "node.collapsed", style: { "border-width": 2, "border-color": "#1d2327", "border-style": "double" } },
    { selector: "node.expanded", style: { "border-style": "solid" } },
    { selector: "node.root", style: { "border-width": 4, "border-color": "#111111" } },
    { selector: "node:selected", style: { "overlay-color": "#2980b9", "overlay-opacity": 0.25, "overlay-padding": 6 } },
    { selector: "node.annotated", style: { "border-width": 3, "border-color": "#e74c3c", "border-style": "double" } },
    // Events that touch the node had problems (issue 29): a dashed amber ring, and a warning sign in its label.
    { selector: "node.flawed", style: { "outline-width": 3, "outline-color": "#e67e22", "outline-style": "dashed", "outline-offset": 3 } },
    // Impact mode (issue 8): what is off the paths fades, the paths and endpoints stand out, and
    // an endpoint still serving an affected model is red and solid, one that used to is amber and dashed.
    { selector: ".dimmed", style: { opacity: 0.18 } },
    { selector: "edge.impact-path", style: { width: 3, "line-color": IMPACT.path, "target-arrow-color": IMPACT.path, opacity: 1 } },
    { selector: "node.impact-path", style: { opacity: 1 } },
    { selector: "node.endpoint", style: { width: 40, height: 40, "font-weight": "bold", "font-size": 12 } },
    { selector: "node.impact-serving", style: { "background-color": IMPACT.serving, "border-width": 4, "border-color": "#7b241c" } },
    {
      selector: "node.impact-past",
      style: { "background-color": IMPACT.past, "border-width": 4, "border-color": "#8a6100", "border-style": "dashed" },
    },
  ];
  for (const [key, kind] of Object.entries(KINDS)) {
    rules.splice(2, 0, { selector: `node.kind-${key}`, style: { shape: kind.shape, "background-color": kind.color } });
  }
  return rules;
}

/** A short label: the version part of "dataset@version" is what tells siblings apart. */
function shortLabel(node) {
  const label = node.label || node.id;
  if (node.kind === "DatasetVersion" && label.length > 28) {
    const [name, version] = [label.slice(0, label.lastIndexOf("@")), label.slice(label.lastIndexOf("@") + 1)];
    const base = name.split("/").pop();
    return `${base}@${version.length > 12 ? `${version.slice(0, 8)}…` : version}`;
  }
  return label;
}

export function createGraph(container, onSelect) {
  const cy = cytoscape({
    container,
    style: styles(),
    minZoom: 0.05,
    maxZoom: 3,
    // Cheaper redraws while panning and zooming over large graphs.
    textureOnViewport: true,
    hideEdgesOnViewport: true,
  });
  cy.on("tap", "node", (event) => onSelect(event.target.data("node")));
  return cy;
}

/** Cytoscape elements for a /graph answer; ids stay the graph's node ids. */
export function elements(answer) {
  const nodes = answer.nodes.map((node) => {
    const kind = kindOf(node);
    const classes = [`kind-${kind}`];
    if (node.id === answer.root) classes.push("root");
    if ((node.annotations || []).length) classes.push("annotated");
    if (node.problems) classes.push("flawed");
    // A dataset/job-level node (issue 34) carries its counts: shown, so its size reads at a glance.
    const counted = node.versions !== undefined || node.runs !== undefined;
    if (counted) classes.push("collapsed");
    const count = counted ? ` · ${node.runs !== undefined ? `${node.runs} runs` : `${node.versions} versions`}` : "";
    const short = (node.problems ? "⚠ " : "") + shortLabel(node) + count;
    return { group: "nodes", data: { id: node.id, short, kind, node }, classes: classes.join(" ") };
  });
  const seen = new Set(nodes.map((n) => n.data.id));
  const edges = [];
  for (const edge of answer.edges) {
    if (!seen.has(edge.src) || !seen.has(edge.dst)) continue;
    const [source, target] = flow(edge);
    // Inferred reads, and what a JobEvent declared rather than a run did (issue 30), look apart.
    const classes = edge.props && edge.props.inferred ? "inferred" : edge.props && edge.props.declared ? "declared" : "";
    if (edge.type === "FLOWS") {
      // A dataset/job-level edge: how many version-level edges stand behind it.
      const data = { id: `${edge.src}|FLOWS|${edge.dst}`, source, target, type: "", support: edge.props.support, edge };
      // All of its support declared (no run seen): dashed as a declared edge is at version level.
      edges.push({ group: "edges", data, classes: classes === "declared" ? "level declared" : "level" });
      continue;
    }
    edges.push({ group: "edges", data: { id: `${edge.src}|${edge.type}|${edge.dst}|${edge.key}`, source, target, type: edge.type, edge }, classes });
  }
  // A dataset, job or alias ref stands for where the walk began (its versions, runs, targets):
  // tie it to them so it does not float alone. An endpoint comes after its deployments.
  const root = answer.nodes.find((n) => n.id === answer.root);
  if (root && ["Dataset", "Job", "Alias"].includes(root.kind)) {
    const last = kindOf(root) === "endpoint";
    for (const node of answer.nodes) {
      if (node.id !== root.id && node.depth === 0) {
        const [source, target] = last ? [node.id, root.id] : [root.id, node.id];
        edges.push({ group: "edges", data: { id: `${root.id}|of|${node.id}`, source, target, type: "" }, classes: "synthetic" });
      }
    }
  }
  return [...nodes, ...edges];
}

/** Replace what is drawn and lay it out; resolves when the layout has finished. */
export function draw(cy, items) {
  cy.batch(() => {
    cy.elements().remove();
    cy.add(items);
  });
  return relayout(cy);
}

/** Lay out what is drawn again (after nodes were added); resolves when the layout has finished. */
export function relayout(cy) {
  const layout = cy.layout({
    name: "dagre",
    rankDir: "LR",
    nodeSep: 14,
    rankSep: 70,
    edgeSep: 8,
    ranker: "network-simplex",
    nodeDimensionsIncludeLabels: true, // labels take room in the layers, so they do not overlap
    fit: true,
    padding: 30,
    animate: false,
  });
  const done = new Promise((resolve) => layout.one("layoutstop", resolve));
  layout.run();
  return done;
}
