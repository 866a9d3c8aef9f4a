// The diff's data changes (issue 37): per dataset whose version differs, the columns added,
// removed and retyped, the statistics and quality metrics before and after, the failed
// assertions on each side, and the contract break of the new version, as `lineage diff` prints them.
import { h, show, table } from "./dom.js";

const arrow = (from, to) => `${show(from)} → ${show(to)}`;

function columns(c) {
  const out = [
    ...c.added.map((x) => `+${x.name} ${x.type}`),
    ...c.removed.map((x) => `-${x.name} ${x.type}`),
    ...c.retyped.map((x) => `~${x.name} ${x.from} → ${x.to}`),
  ];
  return out.length ? out.join(", ") : "same";
}

/** Scalars of a facet by dotted path ({columnMetrics: {status: {nullCount: 0}}} -> status.nullCount). */
function flatten(value, prefix = "", out = {}) {
  for (const [key, inner] of Object.entries(value || {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (inner && typeof inner === "object" && !Array.isArray(inner)) flatten(inner, path, out);
    else out[path] = inner;
  }
  return out;
}

/** A facet's values by path; a quality facet's column metrics by column name (status.nullCount). */
function scalars(facet) {
  if (!facet) return {};
  const { columnMetrics, ...rest } = facet;
  return flatten({ ...rest, ...(columnMetrics || {}) });
}

/** "rowCount 600 → 800, size 1 → 2": the values that differ between the two sides. */
function changed(pair, limit = 6) {
  if (!pair.from && !pair.to) return "-";
  const from = scalars(pair.from);
  const to = scalars(pair.to);
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  const differ = keys.filter((k) => JSON.stringify(from[k]) !== JSON.stringify(to[k]));
  if (!differ.length) return "same";
  const shown = differ.slice(0, limit).map((k) => `${k} ${arrow(from[k], to[k])}`);
  if (differ.length > limit) shown.push(`+${differ.length - limit} more`);
  return shown.join(", ");
}

/** The version part of a handle ("s3://lake/customers@data-v1.8.2" -> "data-v1.8.2"), cut short. */
function version(handle) {
  if (!handle) return "-";
  const label = handle.slice(handle.lastIndexOf("@") + 1);
  return label.length > 16 ? `${label.slice(0, 12)}…` : label;
}

function failed(list) {
  return list.length ? list.map((a) => (a.column ? `${a.assertion} (${a.column})` : a.assertion)).join(", ") : "none";
}

/** The "Data changes" part of a diff, or nothing when the answer has none. */
export function dataChanges(answer) {
  const list = answer.data_changes || [];
  if (!list.length) return [];
  const rows = list.map((d) =>
    h(
      "tr",
      { class: d.contract_break ? "contract-break" : undefined, dataset: { name: d.name } },
      [
        d.name,
        // The panel is narrow: versions by their label, the full handles on hover.
        h("span", { title: `${show(d.from)} → ${show(d.to)}` }, arrow(version(d.from), version(d.to))),
        d.schema_known && !d.schema_known.from && !d.schema_known.to ? "unknown" : columns(d.columns),
        changed(d.statistics),
        changed(d.quality_metrics),
        `${failed(d.failed_assertions.from)} → ${failed(d.failed_assertions.to)}`,
      ].map((cell) => h("td", {}, cell)),
    ),
  );
  const breaks = list.filter((d) => d.contract_break).map((d) => h("li.contract-break", { dataset: { name: d.name } }, d.contract_break));
  return [
    h("h4", {}, "Data changes"),
    h("div.scroll-x", {}, table(["name", "versions", "columns", "statistics", "quality metrics", "failed assertions"], rows, { id: "diff-data-changes" })),
    breaks.length ? h("ul#diff-contract-breaks", {}, h("strong", {}, "Contract breaks"), breaks) : null,
  ];
}
