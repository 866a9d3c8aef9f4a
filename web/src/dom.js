// Small DOM helpers. Everything shown comes from the graph (names, facets, raw events), so text
// only ever goes in through textContent, never innerHTML.

/** h("div.class#id", {attrs}, ...children): an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || "div");
  for (const part of rest) {
    if (part.startsWith(".")) el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "class") el.classList.add(...String(value).split(/\s+/).filter(Boolean));
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** "2026-03-02T12:00:00.000000Z" -> "2026-03-02 12:00" (UTC, as the CLI prints it). */
export function when(value) {
  if (!value) return "-";
  return String(value).replace("T", " ").slice(0, 16);
}

/** A scalar or object as short text for a table cell. */
export function show(value) {
  if (value === undefined || value === null || value === "") return "-";
  if (Array.isArray(value)) return value.map(show).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A two-column table of key/value pairs. */
export function pairs(entries) {
  return h(
    "table.pairs",
    {},
    h("tbody", {}, entries.map(([key, value]) => h("tr", {}, h("th", {}, key), h("td", {}, show(value))))),
  );
}

/** A table with a header row; rows are arrays of cells (strings or elements). */
export function table(headers, rows, attrs = {}) {
  return h(
    "table.grid",
    attrs,
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", {}, text)))),
    h("tbody", {}, rows.map((row) => (row instanceof Node ? row : h("tr", {}, row.map((cell) => h("td", {}, cell)))))),
  );
}

/** Pretty JSON in a <pre>. */
export function json(value) {
  return h("pre.json", {}, JSON.stringify(value, null, 2));
}

/** A collapsible section of the detail panel. */
export function section(title, body, { open = true, name } = {}) {
  return h("details.section", { open, dataset: name ? { section: name } : undefined }, h("summary", {}, title), body);
}
