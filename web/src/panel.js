// The detail panel for one node: properties, facets, versions, annotations, edges and the raw
// events; the deployment timeline for endpoints, the version list and a diff for models, and
// the audit report link where reports exist.
import { get } from "./api.js";
import { auditControl } from "./audit.js";
import { diffControl } from "./diff.js";
import { fill, h, json, pairs, section, show, table, when } from "./dom.js";
import { eventsView } from "./events.js";
import { KINDS, auditable, kindOf } from "./kinds.js";
import { renderTimeline } from "./timeline.js";
import { warningBanner } from "./warnings.js";

let shown = 0; // answers for a node that is no longer shown are dropped

/** A section whose body arrives later; errors are shown in place. */
function later(title, name, promise, render, options) {
  const body = h("div", {}, h("p.muted", {}, "loading…"));
  promise.then(
    (answer) => fill(body, render(answer)),
    (error) => fill(body, h("p.error", {}, `${title} failed: ${error.message}`)),
  );
  return section(title, body, { name, ...options });
}

function problems(detail) {
  const list = detail.problems || [];
  const parts = [];
  if (detail.rejected_events) parts.push(h("p.warning", {}, `${detail.rejected_events} refused events name this node, its dataset or its job: see the dead-letter store (lineage rejections list).`));
  if (!list.length && !parts.length) return h("p.muted", {}, "No problems.");
  parts.push(
    table(
      ["when", "field", "problem", "detail"],
      list.map((p) => h("tr", {}, h("td", {}, when(p.event_time)), h("td", {}, h("code", {}, p.field)), h("td", {}, p.problem), h("td", {}, p.detail))),
      { id: "problems" },
    ),
  );
  if (detail.problems_truncated) parts.push(h("p.small.muted", {}, "Only the earliest problems are listed; the raw events hold every one."));
  return h("div", {}, parts);
}

function annotations(list) {
  if (!list.length) return h("p.muted", {}, "No annotations.");
  return h("ul.annotations", {}, list.map((a) => h("li", {}, h("strong", {}, `#${a.tag}`), ` ${a.reason || ""} `, h("span.small.muted", {}, `${a.author || ""} ${when(a.created_at)}`))));
}

function edges(detail, onSelect) {
  const link = (id) => h("a", { href: "#", onclick: (event) => (event.preventDefault(), onSelect({ id })) }, id);
  const rows = [
    ...detail.in.map((e) => [`← ${e.type}`, link(e.src), show(e.props)]),
    ...detail.out.map((e) => [`${e.type} →`, link(e.dst), show(e.props)]),
  ];
  return rows.length ? table(["edge", "node", "props"], rows) : h("p.muted", {}, "No edges.");
}

function versionList(answer, current, onSelect) {
  const rows = answer.versions.map((v) =>
    h(
      "tr",
      { class: v.id === current ? "current" : "", dataset: { id: v.id } },
      h("td", {}, h("a", { href: "#", onclick: (event) => (event.preventDefault(), onSelect(v)) }, v.version || v.label)),
      h("td", {}, when(v.written_at)),
      h("td", {}, show((v.annotations || []).map((a) => `#${a.tag}`))),
    ),
  );
  const more = answer.total > answer.versions.length ? h("p.small.muted", {}, `newest ${answer.versions.length} of ${answer.total}`) : null;
  return h("div", {}, table(["version", "written", "annotations"], rows), more);
}

function modelVersions(answer, current, onSelect) {
  const rows = answer.versions.map((v) => {
    const trained = [...v.training_data.dataset_versions, ...v.training_data.feature_view_versions].map((d) => d.label);
    return h(
      "tr",
      { class: v.id === current ? "current" : "", dataset: { id: v.id } },
      // A version known only from an alias move has no node (id null): nothing to open.
      h("td", {}, v.id ? h("a", { href: "#", onclick: (event) => (event.preventDefault(), onSelect(v)) }, v.version) : v.version),
      h("td", {}, v.ordering === "first_seen" ? `${when(v.first_seen)} (first seen)` : when(v.written_at)),
      h("td", {}, show(v.aliases)),
      h("td", {}, show(v.metrics)),
      h("td", {}, show((v.annotations || []).map((a) => `#${a.tag}`))),
      h("td.small", {}, show(trained)),
    );
  });
  const parts = [table(["version", "registered", "aliases", "metrics", "annotations", "trained on"], rows, { id: "model-versions" })];
  const comparable = answer.versions.filter((v) => v.id);
  if (comparable.length >= 2) parts.push(h("h4", {}, "Compare two versions"), diffControl(comparable, current));
  return h("div", {}, parts);
}

/** A model version's release metadata checklist (issue 37): each item present or missing, with its event. */
function checklistSection(node) {
  if (node.kind !== "DatasetVersion" || !(node.labels || []).includes("ModelVersion") || !node.props.dataset) return null;
  const path = `/models/${encodeURIComponent(node.props.dataset)}/versions/${encodeURIComponent(node.props.version)}/checklist`;
  return later("Metadata checklist", "checklist", get(path), (a) => [
    h("p#checklist-count", {}, `${a.present} of ${a.total} items present`),
    table(
      ["item", "status", "event", "note"],
      a.items.map((i) =>
        h(
          "tr",
          { class: i.status, dataset: { item: i.item } },
          h("td", {}, i.item.replaceAll("_", " ")),
          h("td", {}, i.status),
          h("td.small", {}, i.event ? h("code", { title: i.event }, i.event.slice(0, 12)) : ""),
          h("td.small.muted", {}, i.note),
        ),
      ),
      { id: "model-checklist" },
    ),
  ]);
}

/** A dataset version's fields (issue 36); each opens its column lineage. */
function fieldsSection(node, onColumn) {
  if (node.kind !== "DatasetVersion" || !onColumn) return null;
  return later("Fields", "fields", get("/fields", { ref: node.id }), (a) =>
    a.fields.length
      ? table(
          ["field", "type", "made from", "feeds"],
          a.fields.map((f) =>
            h(
              "tr.field",
              { dataset: { ref: f.ref, field: f.field } },
              h("td", {}, h("button.link", { type: "button", title: "Column lineage of this field", onclick: () => onColumn(f) }, f.field)),
              h("td.small", {}, f.type || ""),
              h("td.small", {}, String(f.inputs)),
              h("td.small", {}, String(f.outputs)),
            ),
          ),
          { id: "version-fields" },
        )
      : h("p.muted", {}, "No fields: no schema or column lineage names any."),
  );
}

/** The kind-specific section: endpoint timeline, model versions with diff, or dataset versions. */
function versionsSection(node, onSelect) {
  const labels = node.labels || [];
  const kind = kindOf(node);
  if (kind === "deployment" || kind === "endpoint" || (node.kind === "Dataset" && labels.includes("Endpoint"))) {
    const endpoint = node.kind === "Dataset" ? node.id : node.dataset;
    return later("Deployment timeline", "timeline", get(`/endpoints/${encodeURIComponent(endpoint)}`), (a) => [warningBanner(a, { onSelect }), renderTimeline(a, { onSelect })]);
  }
  if (kind === "model" || (node.kind === "Dataset" && labels.includes("Model"))) {
    const model = node.kind === "Dataset" ? node.id : node.dataset;
    return later("Model versions", "versions", get(`/models/${encodeURIComponent(model)}/versions`), (a) => [warningBanner(a, { onSelect }), modelVersions(a, node.id, onSelect)]);
  }
  if (node.kind === "DatasetVersion" || node.kind === "Dataset") {
    return later("Versions", "versions", get("/versions", { ref: node.id, limit: 50 }), (a) => versionList(a, node.id, onSelect));
  }
  return null;
}

/** Show `node` (an item from any answer: needs at least `id`) in `container`. */
export async function showDetail(container, node, { onSelect, onFocus, onColumn }) {
  const mine = ++shown;
  container.dataset.node = node.id;
  container.dataset.state = "loading";
  fill(container, h("p.muted", {}, `loading ${node.label || node.id}…`));
  let detail;
  try {
    detail = await get(`/nodes/${encodeURIComponent(node.id)}`);
  } catch (error) {
    if (mine === shown) fill(container, h("p.error", {}, `could not load ${node.id}: ${error.message}`));
    container.dataset.state = "error";
    return;
  }
  if (mine !== shown) return;
  const kind = KINDS[kindOf(detail)];
  const props = Object.entries(detail.props).filter(([key]) => !["facets", "annotations", "problems", "problems_truncated"].includes(key));
  const facets = Object.entries(detail.props.facets || {});
  fill(
    container,
    h(
      "header.detail-head",
      {},
      h("h2", {}, detail.label),
      h("span.kind-badge", { dataset: { kind: kindOf(detail) } }, kind.name),
      h("div.small.muted", {}, `id ${detail.id} · ref ${detail.ref} · ${detail.events} events`),
      h("div.row", {}, h("button#focus-here", { type: "button", onclick: () => onFocus(detail) }, "Explore from here")),
      auditable(detail) ? auditControl(detail.id, detail.label) : null,
    ),
    section("Properties", pairs(props), { name: "properties" }),
    section(`Facets (${facets.length})`, facets.length ? h("div", {}, facets.map(([key, value]) => h("details", {}, h("summary", {}, key), json(value)))) : h("p.muted", {}, "No facets."), { name: "facets" }),
    fieldsSection(detail, onColumn),
    versionsSection(detail, onSelect),
    checklistSection(detail),
    section(`Annotations (${detail.annotations.length})`, annotations(detail.annotations), { name: "annotations" }),
    section(`Problems (${(detail.problems || []).length + (detail.rejected_events || 0)})`, problems(detail), { name: "problems", open: Boolean((detail.problems || []).length || detail.rejected_events) }),
    section(`Edges (${detail.in.length + detail.out.length})`, edges(detail, onSelect), { name: "edges", open: false }),
    section("Raw events", eventsView(detail.id), { name: "events", open: false }),
  );
  container.dataset.state = "ready";
}
