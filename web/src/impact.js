// Impact mode (issue 8): from a dataset version, the paths to every endpoint it reached, and
// which endpoints still serve an affected model versus which used to. The answer comes from
// /impact (the same one `lineage impact` prints); the drawing is the downstream /graph.
import { h, fill, when, show } from "./dom.js";

/** The drawn id of an endpoint reached (apart from its Dataset node, which may be drawn too). */
export const endpointId = (endpoint) => `endpoint:${endpoint.id}`;

/** An endpoint reached, as a node of its own, coloured by whether it still serves what was
 * reached; impact and column mode draw it alike. */
export function endpointNode(endpoint) {
  const status = endpoint.currently_serving ? "serving" : "past";
  const node = { id: endpoint.id, kind: "Dataset", labels: ["Endpoint"], label: endpoint.name, ref: endpoint.name };
  return {
    group: "nodes",
    data: { id: endpointId(endpoint), short: endpoint.name, kind: "endpoint", node, endpoint: endpoint.name, serving: endpoint.currently_serving },
    classes: `kind-endpoint endpoint impact-${status}`,
  };
}

/** An endpoint reached, as a row of the side list: told apart in words as well as in colour, with
 * the deployments reached and what it serves now. `via` says how it was reached, where the
 * answer says (column mode names the model versions). */
export function endpointRow(endpoint, onEndpoint, via = "") {
  const serving = endpoint.currently_serving;
  const affected = endpoint.affected_deployments
    .map((d) => `${d.model_version} ${when(d.since)} → ${d.until ? when(d.until) : "now"}${d.canary ? " (canary)" : ""}`)
    .join("; ");
  return h(
    "li.endpoint-row",
    {
      dataset: { endpoint: endpoint.name, id: endpoint.id, serving: String(serving) },
      class: serving ? "serving" : "past",
      tabindex: 0,
      onclick: () => onEndpoint(endpoint),
      onkeydown: (event) => event.key === "Enter" && onEndpoint(endpoint),
    },
    h("span.badge", {}, serving ? "still serving" : "used to serve"),
    h("strong", {}, endpoint.name),
    endpoint.environment ? h("span.muted", {}, ` (${endpoint.environment})`) : null,
    h("div.small", {}, `${via ? `via ${via}; ` : ""}affected: ${affected}`),
    h("div.small", {}, `serving now: ${show(endpoint.current_model_version)}`),
  );
}

/** Extra elements: one node per affected endpoint, fed by its affected deployments. */
export function impactElements(graphAnswer, impact) {
  if (impact.level === "dataset") return []; // the endpoints are drawn already, as datasets
  const drawn = new Set(graphAnswer.nodes.map((n) => n.id));
  const items = [];
  for (const endpoint of impact.endpoints) {
    items.push(endpointNode(endpoint));
    for (const dep of endpoint.affected_deployments) {
      if (!drawn.has(dep.id)) continue; // beyond the chosen depth: listed, not drawn
      items.push({
        group: "edges",
        data: { id: `${dep.id}|to|${endpoint.id}`, source: dep.id, target: endpointId(endpoint), type: dep.status === "live" ? "serves" : "served" },
        classes: "synthetic",
      });
    }
  }
  return items;
}

/** Classes on the drawn graph: paths root -> endpoints, endpoints and deployments by status. */
export function highlight(cy, rootId, impact) {
  const root = cy.getElementById(rootId);
  let onPaths = cy.collection().union(root);
  cy.batch(() => {
    for (const endpoint of impact.endpoints) {
      const collapsed = impact.level === "dataset";
      const target = cy.getElementById(collapsed ? endpoint.id : endpointId(endpoint));
      if (target.empty()) continue;
      if (collapsed) {
        // At dataset level the endpoint's own node stands out, by what it serves now (issue 34).
        target.data("endpoint", endpoint.label).addClass(`endpoint impact-${endpoint.currently_serving ? "serving" : "past"}`);
        onPaths = onPaths.union(root.successors().intersection(target.predecessors()).union(target));
        continue;
      }
      // A path element is downstream of the root and upstream of the endpoint.
      const path = root.successors().intersection(target.predecessors()).union(target);
      onPaths = onPaths.union(path);
      for (const dep of endpoint.affected_deployments) {
        cy.getElementById(dep.id).addClass(dep.status === "live" ? "impact-serving" : "impact-past");
      }
    }
    onPaths.addClass("impact-path");
    cy.elements().not(onPaths).addClass("dimmed");
  });
  return onPaths;
}

/** The side list: every affected endpoint, told apart in words as well as in colour. */
export function renderImpact(container, impact, { onEndpoint }) {
  const still = impact.endpoints.filter((e) => e.currently_serving);
  const past = impact.endpoints.filter((e) => !e.currently_serving);
  const counts = impact.counts || {};
  const folded = impact.folded_runs || {};
  if (impact.level === "dataset") return renderCollapsed(container, impact, { onEndpoint });
  const rows = impact.endpoints.map((endpoint) => endpointRow(endpoint, onEndpoint));
  fill(
    container,
    h("h2", {}, `Impact of ${impact.node.label}`),
    h(
      "p.summary",
      {},
      `${impact.endpoints.length} endpoints reached: ${still.length} still serving, ${past.length} used to. `,
      `Downstream: ${counts.runs || 0} runs, ${counts.dataset_versions || 0} dataset versions, `,
      `${counts.feature_view_versions || 0} feature view versions, ${counts.model_versions || 0} model versions, `,
      `${counts.deployments || 0} deployments (within ${impact.depth} hops).`,
      counts.jobs || counts.datasets ? ` Declared or symlinked: ${counts.jobs || 0} jobs, ${counts.datasets || 0} datasets.` : "",
      folded.count ? ` ${folded.count} child runs that touch no dataset are counted under their parents.` : "",
    ),
    rows.length ? h("ul#impact-endpoints", {}, rows) : h("p.muted#impact-endpoints", {}, "No endpoint is downstream within this depth."),
  );
}

/** The side list at dataset level: each endpoint reached, what it serves now and whether that
 * comes from the ref; counts of what lies between. */
function renderCollapsed(container, impact, { onEndpoint }) {
  const counts = impact.counts || {};
  const still = impact.endpoints.filter((e) => e.currently_serving);
  const rows = impact.endpoints.map((endpoint) => {
    const serving = endpoint.currently_serving;
    const live = (endpoint.live_deployments || []).map((d) => `${show(d.model_version)} since ${when(d.since)}${d.canary ? " (canary)" : ""}`).join("; ");
    return h(
      "li.endpoint-row",
      {
        dataset: { endpoint: endpoint.label, id: endpoint.id, serving: String(serving) },
        class: serving ? "serving" : "past",
        tabindex: 0,
        onclick: () => onEndpoint({ id: endpoint.id, name: endpoint.label }),
        onkeydown: (event) => event.key === "Enter" && onEndpoint({ id: endpoint.id, name: endpoint.label }),
      },
      h("span.badge", {}, serving ? "still serving" : "used to serve"),
      h("strong", {}, endpoint.label),
      endpoint.environment ? h("span.muted", {}, ` (${endpoint.environment})`) : null,
      h("div.small", {}, `live now: ${live || "nothing"}`),
      h("div.small", {}, `${endpoint.versions} deployments, the newest ${show(endpoint.newest_version && endpoint.newest_version.label)}`),
    );
  });
  fill(
    container,
    h("h2", {}, `Impact of ${impact.node.label}`),
    h(
      "p.summary",
      {},
      `${impact.endpoints.length} endpoints reached: ${still.length} serving a model downstream of it now. `,
      `Downstream, each once: ${counts.jobs || 0} jobs, ${counts.datasets || 0} datasets, ${counts.feature_views || 0} feature views, `,
      `${counts.models || 0} models (within ${impact.depth} hops). Expand a node for its versions and runs.`,
    ),
    rows.length ? h("ul#impact-endpoints", {}, rows) : h("p.muted#impact-endpoints", {}, "No endpoint is downstream within this depth."),
  );
}
