// Side-by-side diff of two model versions (/diff): what differs upstream of them, from on the
// left and to on the right, as `lineage diff` prints it.
import { get } from "./api.js";
import { dataChanges } from "./datachanges.js";
import { h, fill, show, table } from "./dom.js";
import { warningBanner } from "./warnings.js";

function rows(items, name, cells) {
  return items.map((item) => h("tr", { class: `change-${item.change}`, dataset: { name: name(item), change: item.change } }, cells(item).map((c) => h("td", {}, c))));
}

export function renderDiff(answer) {
  const s = answer.summary;
  const parts = [
    warningBanner(answer),
    h(
      "div.diff-head",
      {},
      h("div.from", {}, h("span.small.muted", {}, "from "), h("strong", {}, answer.from.label)),
      h("div.to", {}, h("span.small.muted", {}, "to "), h("strong", {}, answer.to.label)),
    ),
    h("p.small", {}, `${s.datasets_changed} datasets, ${s.commits_changed} commits, ${s.params_changed} params and ${s.metrics_changed} metrics changed.`),
    h("h4", {}, "Data, features and models"),
    table(["name", "kind", "from", "to", "change"], rows(answer.datasets, (d) => d.name, (d) => [d.name, d.kind, show(d.from), show(d.to), d.change]), { id: "diff-datasets" }),
  ];
  if (answer.commits.length) {
    parts.push(h("h4", {}, "Commits"), table(["repo", "from", "to", "change"], rows(answer.commits, (c) => c.repo, (c) => [c.repo, show(c.from.map((x) => x.slice(0, 12))), show(c.to.map((x) => x.slice(0, 12))), c.change])));
  }
  for (const [title, list] of [["Params", answer.params], ["Metrics", answer.metrics]]) {
    if (list.length) parts.push(h("h4", {}, title), table(["job", "name", "from", "to"], rows(list, (p) => `${p.job} ${p.name}`, (p) => [p.job, p.name, show(p.from), show(p.to)]), { id: `diff-${title.toLowerCase()}` }));
  }
  parts.push(...dataChanges(answer));
  return h("div.diff", {}, parts);
}

/** Two version pickers and a Compare button; the diff appears below them. */
export function diffControl(versions, current) {
  const options = (selected) => versions.map((v) => h("option", { value: v.id, selected: v.id === selected }, v.label));
  // Default: the version before this one (versions come newest first) against this one.
  const index = Math.max(versions.findIndex((v) => v.id === current), 0);
  const older = versions[index + 1] || versions[index];
  const from = h("select#diff-from", { "aria-label": "from version" }, options(older.id));
  const to = h("select#diff-to", { "aria-label": "to version" }, options(versions[index].id));
  const out = h("div#diff");
  const compare = async () => {
    fill(out, h("p.muted", {}, "comparing…"));
    try {
      fill(out, renderDiff(await get("/diff", { from: from.value, to: to.value })));
    } catch (error) {
      fill(out, h("p.error", {}, `diff failed: ${error.message}`));
    }
  };
  return h("div.diff-control", {}, h("div.row", {}, from, " → ", to, " ", h("button#diff-compare", { type: "button", onclick: compare }, "Compare")), out);
}
