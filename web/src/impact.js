// Impact mode (issue 8): from a dataset version, the paths to every endpoint it reached, and
// which endpoints still serve an affected model versus which used to. The answer comes from
// /impact (the same one `lineage impact` prints); the drawing is the downstream /graph.
import { h, fill, when, show } from "./dom.js";

const endpointId = (endpoint) => `endpoint:${endpoint.id}`;

/** Extra elements: one node per affected endpoint, fed by its affected deployments. */
export function impactElements(graphAnswer, impact) {
  const drawn = new Set(graphAnswer.nodes.map((n) => n.id));
  const items = [];
  for (const endpoint of impact.endpoints) {
    const status = endpoint.currently_serving ? "serving" : "past";
    const node = { id: endpoint.id, kind: "Dataset", labels: ["Endpoint"], label: endpoint.name, ref: endpoint.name };
    items.push({
      group: "nodes",
      data: { id: endpointId(endpoint), short: endpoint.name, kind: "endpoint", node, endpoint: endpoint.name, serving: endpoint.currently_serving },
      classes: `kind-endpoint endpoint impact-${status}`,
    });
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
      const target = cy.getElementById(endpointId(endpoint));
      if (target.empty()) continue;
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
  const rows = impact.endpoints.map((endpoint) => {
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
      h("div.small", {}, `affected: ${affected}`),
      h("div.small", {}, `serving now: ${show(endpoint.current_model_version)}`),
    );
  });
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
