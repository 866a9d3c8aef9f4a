// Node kinds as a responder sees them (DESIGN.md section 3): the graph stores a primary kind and
// extra labels; the page tells six of them apart by shape and colour, and draws the rest plainly.

export const KINDS = {
  commit: { name: "commit", shape: "diamond", color: "#5c6bc0" },
  dataset: { name: "dataset version", shape: "round-rectangle", color: "#1f77b4" },
  feature: { name: "feature view version", shape: "hexagon", color: "#17a589" },
  run: { name: "run", shape: "ellipse", color: "#7f8c8d" },
  model: { name: "model version", shape: "octagon", color: "#8e44ad" },
  deployment: { name: "endpoint deployment", shape: "round-triangle", color: "#d35400" },
  endpoint: { name: "endpoint", shape: "star", color: "#34495e" },
  field: { name: "field (column)", shape: "tag", color: "#2e86c1" },
  other: { name: "job, dataset, model, alias", shape: "rectangle", color: "#95a5a6" },
};

/** The kind key of a node as the API returns it (`kind` plus `labels`). */
export function kindOf(node) {
  const labels = node.labels || [];
  if (node.kind === "Commit") return "commit";
  if (node.kind === "Run") return "run";
  if (node.kind === "Field") return "field";
  if (node.kind === "DatasetVersion") {
    if (labels.includes("Deployment")) return "deployment";
    if (labels.includes("ModelVersion")) return "model";
    if (labels.includes("FeatureViewVersion")) return "feature";
    return "dataset";
  }
  if (node.kind === "Dataset" && labels.includes("Endpoint")) return "endpoint";
  return "other";
}

// Edges as stored point the way the relation reads (a run READ a version); drawn, they point
// the way data flows (version -> run), so a left-to-right layout reads as the pipeline does.
// Mirrors FLOW_BACKWARD in lineage/graph.py.
const AGAINST_FLOW = new Set(["READ", "SERVES", "AT_COMMIT", "CHILD_OF", "DECLARED_READ"]);

/** [source, target] in data-flow order. */
export function flow(edge) {
  return AGAINST_FLOW.has(edge.type) ? [edge.dst, edge.src] : [edge.src, edge.dst];
}

/** Which detail answers apply to a node (audit reports exist for these only, see lineage/reports). */
export function auditable(node) {
  return node.kind === "DatasetVersion" || (node.kind === "Dataset" && (node.labels || []).includes("Endpoint"));
}
