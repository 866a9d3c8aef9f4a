// An endpoint's deployment timeline (/endpoints/{name}): a bar per deployment on one time axis,
// newest first, as `lineage endpoint` prints it.
import { h, when, show } from "./dom.js";

const time = (value) => (value ? Date.parse(value) : NaN);

function bar(start, end) {
  const el = h("div.span-bar");
  el.style.marginLeft = `${start.toFixed(2)}%`;
  el.style.width = `${Math.max(end - start, 0.8).toFixed(2)}%`;
  return el;
}

export function renderTimeline(answer, { onSelect }) {
  const history = answer.history || [];
  if (!history.length) return h("p.muted", {}, "No deployments recorded.");
  const starts = history.map((d) => time(d.since)).filter(Number.isFinite);
  const ends = history.map((d) => time(d.until)).filter(Number.isFinite);
  const first = Math.min(...starts);
  // Live deployments run to "now"; the axis ends a little after the last known change instead
  // of at the wall clock, so the bars stay readable for old histories.
  const last = Math.max(...starts, ...ends);
  const span = Math.max(last - first, 1) * 1.15;
  const rows = history.map((d) => {
    const start = ((time(d.since) - first) / span) * 100;
    const end = d.until ? ((time(d.until) - first) / span) * 100 : 100;
    const notes = [d.canary ? "canary" : "", d.rollback ? "rollback" : "", d.traffic_percent != null ? `${d.traffic_percent}%` : ""];
    return h(
      "li.deployment",
      { dataset: { id: d.id, status: d.status || "" }, class: d.status === "live" ? "live" : "ended" },
      h(
        "div.row",
        {},
        h("a", { href: "#", onclick: (event) => (event.preventDefault(), onSelect(d)) }, show(d.model_versions)),
        h("span.small", {}, ` ${when(d.since)} → ${d.until ? when(d.until) : "live"} `),
        h("span.small.muted", {}, notes.filter(Boolean).join(", ")),
      ),
      h("div.track", {}, bar(start, end)),
    );
  });
  const now = (answer.current_model_version || []).join(", ") || "nothing";
  return h("div.timeline", {}, h("p", {}, `${answer.name}${answer.environment ? ` (${answer.environment})` : ""} serves ${now}.`), h("ol#timeline", {}, rows));
}
