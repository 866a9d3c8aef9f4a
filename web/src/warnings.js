// What an answer could not see (issue 29): every answer of the API carries `warnings`
// ({kind, node, detail}); a banner lists them above what the answer shows, so a view never
// looks complete while it is not.
import { h } from "./dom.js";

const KIND_NAMES = {
  stale_run: "stale run",
  failed_run: "failed run",
  placeholder_input: "input of unknown version",
  untrained_model_version: "model version with no known training",
};

/** A banner for `answer.warnings`, or null when there are none. `onSelect({id})` opens a node. */
export function warningBanner(answer, { onSelect, id } = {}) {
  const warnings = (answer && answer.warnings) || [];
  if (!warnings.length) return null;
  const items = warnings.map((w) =>
    h(
      "li",
      { dataset: { kind: w.kind, node: w.node } },
      h("span.warning-kind", {}, KIND_NAMES[w.kind] || w.kind.replaceAll("_", " ")),
      " ",
      onSelect ? h("a", { href: "#", onclick: (event) => (event.preventDefault(), onSelect({ id: w.node })) }, w.detail) : w.detail,
    ),
  );
  const count = `${warnings.length} thing${warnings.length === 1 ? "" : "s"}`;
  return h(
    "div.warning-banner",
    { role: "alert", id, dataset: { count: String(warnings.length) } },
    h("strong", {}, `Incomplete answer: ${count} it could not see`),
    h("ul", {}, items),
  );
}
