// The raw events about a node (/events?ref=), oldest first, a page at a time: the evidence
// behind everything the graph says about it.
import { get } from "./api.js";
import { h, json, when } from "./dom.js";

const PAGE = 25;

function eventRow(row) {
  const summary = `#${row.seq} ${when(row.event_time)} ${row.event_type || row.kind}${row.job ? ` ${row.job}` : ""}`;
  return h("li", { dataset: { seq: row.seq } }, h("details", {}, h("summary", {}, summary), h("div.small.muted", {}, `hash ${row.hash}`), json(row.event)));
}

export function eventsView(ref) {
  const list = h("ol#events.events");
  const note = h("p.small.muted");
  const more = h("button", { type: "button", hidden: true }, "More events");
  let cursor = 0;
  const load = async () => {
    more.hidden = true;
    try {
      const page = await get("/events", { ref, limit: PAGE, cursor });
      list.append(...page.events.map(eventRow));
      note.textContent = `${list.children.length} of ${page.total} events`;
      if (page.next_cursor !== null) {
        cursor = page.next_cursor;
        more.hidden = false;
      }
    } catch (error) {
      note.textContent = `events failed: ${error.message}`;
    }
  };
  more.addEventListener("click", load);
  load();
  return h("div", {}, note, list, more);
}
