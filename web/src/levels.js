// The dataset/job level (issue 34): a dataset or job ref is drawn collapsed, each dataset and job
// once with its counts; a node is expanded on demand into its versions or runs (the version
// level of /graph, one page of it), which are added beside it without redrawing the rest.
import { get } from "./api.js";
import { elements } from "./graph.js";

export const EXPAND_LIMIT = 200;

/** A collapsed node's counts, for its label: "orders · 10000 versions". */
export function countLabel(node) {
  if (node.runs !== undefined) return `${node.runs} run${node.runs === 1 ? "" : "s"}`;
  if (node.versions !== undefined) return `${node.versions} version${node.versions === 1 ? "" : "s"}`;
  return "";
}

/** Fetch one node's versions (or runs) and what joins them one hop away, and add them to the
 * drawing tied to the collapsed node. Resolves with the page's answer. */
export async function expand(cy, node, direction) {
  const answer = await get("/graph", { ref: node.id, level: "version", direction, depth: 1, limit: EXPAND_LIMIT });
  const have = new Set(cy.elements().map((e) => e.id()));
  const items = elements({ ...answer, root: "" }).filter((item) => !have.has(item.data.id));
  for (const member of answer.nodes) {
    if (member.id !== node.id && member.depth === 0) {
      const id = `${node.id}|holds|${member.id}`;
      if (!have.has(id)) items.push({ group: "edges", data: { id, source: node.id, target: member.id, type: "" }, classes: "synthetic" });
    }
  }
  cy.add(items);
  cy.getElementById(node.id).addClass("expanded");
  return answer;
}
