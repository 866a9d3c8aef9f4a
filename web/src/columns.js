// Column mode (issue 36): one field's column lineage, drawn field by field (version-exact), with
// the endpoints serving a model made from it and the paths to them highlighted. The answer is
// /column-lineage's, the one `lineage columns` prints.
import { h, fill } from "./dom.js";
import { endpointId, endpointNode, endpointRow } from "./impact.js";

function transformationText(transformations) {
  return (transformations || [])
    .map((t) => [t.type, t.subtype].filter(Boolean).join("/") + (t.description ? ` (${t.description})` : "") + (t.dataset_wide ? " whole dataset" : ""))
    .join("; ");
}

/** A short label: the field with its dataset's last name part and version, so that two versions'
 * `income` are told apart on the canvas (the whole ref is in the detail panel). */
function shortLabel(field) {
  if (field.label.length <= 32) return field.label;
  const base = String(field.name || "").split("/").pop();
  const version = String(field.version || "");
  return `${base}@${version.length > 12 ? `${version.slice(0, 8)}…` : version}[${field.field}]`;
}

/** Cytoscape elements: the start field, the fields reached, and one node per endpoint reached. */
export function columnElements(answer) {
  const all = [answer.field, ...answer.fields];
  const nodes = all.map((field) => ({
    group: "nodes",
    data: { id: field.id, short: shortLabel(field), kind: "field", node: field, version: field.version_id },
    classes: ["kind-field", field.id === answer.field.id ? "root" : "", field.placeholder ? "placeholder" : ""].join(" ").trim(),
  }));
  const edges = answer.edges.map((edge) => ({
    group: "edges",
    data: { id: `${edge.src}|FEEDS|${edge.dst}`, source: edge.src, target: edge.dst, type: transformationText(edge.transformations) || "FEEDS", edge },
    classes: edge.direct ? "" : "indirect",
  }));
  const models = new Map(answer.model_versions.map((m) => [m.label, m.id]));
  for (const endpoint of answer.endpoints || []) {
    nodes.push(endpointNode(endpoint));
    const versions = new Set(endpoint.via_model_versions.map((label) => models.get(label)));
    for (const field of all.filter((f) => versions.has(f.version_id))) {
      edges.push({ group: "edges", data: { id: `${field.id}|served|${endpoint.id}`, source: field.id, target: endpointId(endpoint), type: "" }, classes: "synthetic" });
    }
  }
  return [...nodes, ...edges];
}

/** The paths from the start field to every endpoint reached, highlighted; the rest faded. */
export function highlightColumns(cy, answer) {
  const root = cy.getElementById(answer.field.id);
  let onPaths = cy.collection().union(root);
  cy.batch(() => {
    for (const endpoint of answer.endpoints || []) {
      const target = cy.getElementById(endpointId(endpoint));
      if (target.empty()) continue;
      onPaths = onPaths.union(root.successors().intersection(target.predecessors()).union(target));
    }
    if ((answer.endpoints || []).length) {
      onPaths.addClass("impact-path");
      cy.elements().not(onPaths).addClass("dimmed");
    }
  });
  return onPaths;
}

/** The side list: features, model versions and endpoints the field reached. */
export function renderColumns(container, answer, { onEndpoint, onField }) {
  const way = answer.direction === "down" ? "made from" : "that it is made from";
  const rows = (answer.endpoints || []).map((endpoint) => endpointRow(endpoint, onEndpoint, endpoint.via_model_versions.join(", ")));
  const fieldRow = (f) => h("li.field-row", { dataset: { ref: f.ref }, tabindex: 0, onclick: () => onField(f) }, h("code", {}, f.ref));
  fill(
    container,
    h("h2", {}, `Column lineage of ${answer.field.label}`),
    h(
      "p.summary",
      {},
      `${answer.counts.fields} fields ${way} it (within ${answer.depth} hops${answer.transformations === "direct" ? ", DIRECT only" : ""}): `,
      `${answer.counts.features} features, ${answer.counts.model_versions} model versions, ${answer.counts.endpoints} endpoints.`,
    ),
    answer.features.length ? [h("h3", {}, "Features"), h("ul#column-features", {}, answer.features.map(fieldRow))] : null,
    answer.model_versions.length
      ? [h("h3", {}, "Model versions"), h("ul#column-models", {}, answer.model_versions.map((m) => h("li", { dataset: { ref: m.ref } }, `${m.label}: ${m.fields.join(", ")}`)))]
      : null,
    answer.direction === "down"
      ? rows.length ? h("ul#column-endpoints", {}, rows) : h("p.muted#column-endpoints", {}, "No endpoint serves a model made from it within this depth.")
      : null,
  );
}
