// Search by any ref (DESIGN.md section 5) with suggestions from /nodes/search as one types. Enter on
// free text hands the text itself over as a ref: the graph call resolves it, and a ref that
// matches nothing or several nodes comes back with suggestions or candidates to pick from.
import { get } from "./api.js";
import { fill, h } from "./dom.js";
import { KINDS, kindOf } from "./kinds.js";

const DELAY_MS = 120;

export function suggestionItems(items, onPick) {
  return items.map((item) =>
    h(
      "li.suggestion",
      { role: "option", dataset: { id: item.id, ref: item.ref, kind: item.kind }, onmousedown: (event) => (event.preventDefault(), onPick(item)) },
      h("span.kind-badge", { dataset: { kind: kindOf(item) } }, KINDS[kindOf(item)].name),
      h("span.label", {}, item.label),
      item.ref !== item.label ? h("span.small.muted", {}, ` ${item.ref}`) : null,
    ),
  );
}

export function setupSearch(input, list, onPick) {
  let timer = null;
  let asked = 0;
  let active = -1;
  const close = () => {
    list.hidden = true;
    active = -1;
  };
  const show = (items, note) => {
    fill(list, note ? h("li.note", {}, note) : null, suggestionItems(items, (item) => (close(), onPick(item))));
    list.hidden = !items.length && !note;
    active = -1;
  };
  const mark = () => [...list.querySelectorAll("li.suggestion")].forEach((li, i) => li.classList.toggle("active", i === active));

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) return close();
    timer = setTimeout(async () => {
      const mine = ++asked;
      try {
        const answer = await get("/nodes/search", { q, limit: 12 });
        if (mine === asked) show(answer.results, answer.results.length ? "" : "No match yet; Enter tries it as a ref.");
      } catch (error) {
        if (mine === asked) show([], `search failed: ${error.message}`);
      }
    }, DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    const items = [...list.querySelectorAll("li.suggestion")];
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!items.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      mark();
    } else if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      const chosen = active >= 0 ? items[active] : null;
      close();
      onPick(chosen ? { id: chosen.dataset.id, ref: chosen.dataset.ref, kind: chosen.dataset.kind } : { ref: input.value.trim() });
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", close); // a suggestion is picked on mousedown, before blur
  return { show, close };
}
