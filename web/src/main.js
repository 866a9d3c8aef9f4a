// The lineage explorer (issue 8): search a ref, see the graph around it, switch to impact mode,
// read a node's details. State lives in the URL hash, so a view can be shared and reloaded.
import { ApiError, get, setToken, token } from "./api.js";
import { fill, h } from "./dom.js";
import { createGraph, draw, elements, relayout } from "./graph.js";
import { columnElements, highlightColumns, renderColumns } from "./columns.js";
import { highlight, impactElements, renderImpact } from "./impact.js";
import { EXPAND_LIMIT, expand } from "./levels.js";
import { KINDS } from "./kinds.js";
import { showDetail } from "./panel.js";
import { askToken } from "./token.js";
import { setupSearch, suggestionItems } from "./search.js";
import { warningBanner } from "./warnings.js";

const $ = (id) => document.getElementById(id);
const state = { ref: "", mode: "graph", direction: "both", depth: 10, level: "", selected: "" };
let loads = 0;

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  state.ref = params.get("ref") || "";
  state.mode = ["impact", "columns"].includes(params.get("mode")) ? params.get("mode") : "graph";
  state.direction = ["up", "down", "both"].includes(params.get("direction")) ? params.get("direction") : "both";
  state.depth = Math.min(Math.max(Number(params.get("depth")) || 10, 1), 50);
  state.level = params.get("level") === "version" ? "version" : "";
  state.selected = params.get("node") || "";
}

function writeHash() {
  const params = new URLSearchParams({ ref: state.ref, mode: state.mode, direction: state.direction, depth: String(state.depth) });
  if (state.level) params.set("level", state.level);
  if (state.selected) params.set("node", state.selected);
  history.replaceState(null, "", `#${params}`);
}

function syncControls() {
  $("direction").value = state.direction;
  $("direction").disabled = state.mode === "impact"; // impact is downstream by definition
  $("depth").value = String(state.depth);
  $("level").value = state.level;
  for (const button of document.querySelectorAll("[data-mode-button]")) {
    button.setAttribute("aria-pressed", String(button.dataset.modeButton === state.mode));
  }
  $("impact").hidden = state.mode === "graph";
}

/** The page's banner: what the answer on screen could not see (impact's in impact mode). */
function showWarnings(answer) {
  const banner = warningBanner(answer, { onSelect: (node) => select(node), id: "warnings-banner" });
  fill($("warnings"), banner);
  $("warnings").hidden = !banner;
}

function status(text, kind = "") {
  const el = $("status");
  el.className = kind;
  el.textContent = text;
}

/** A ref that matched nothing or several nodes: offer what the API suggested. */
function offer(error) {
  const list = error.body.suggestions || error.body.candidates || [];
  status(error.message, "error");
  if (list.length) {
    const items = list.filter((item) => typeof item === "object");
    fill($("suggestions"), h("li.note", {}, error.status === 409 ? "Several nodes match; pick one:" : "Did you mean:"), suggestionItems(items, pick));
    $("suggestions").hidden = false;
  }
}

/** Column mode (issue 36): the column lineage of the field the ref names. */
async function loadColumns(mine) {
  const graphEl = $("graph");
  const direction = state.direction === "up" ? "up" : "down";
  const answer = await get("/column-lineage", { ref: state.ref, direction, depth: state.depth });
  if (mine !== loads) return;
  await draw(cy, columnElements(answer));
  if (mine !== loads) return;
  showWarnings(answer);
  highlightColumns(cy, answer);
  const onEndpoint = (e) => select({ id: e.id, kind: "Dataset", labels: ["Endpoint"], label: e.name });
  renderColumns($("impact"), answer, { onEndpoint, onField: (f) => select(f) });
  state.ref = answer.field.id;
  writeHash();
  graphEl.dataset.root = answer.field.id;
  graphEl.dataset.nodes = String(answer.fields.length + 1);
  graphEl.dataset.state = "ready";
  status(`${answer.field.label}: ${answer.fields.length} fields ${direction === "down" ? "downstream" : "upstream"}, ${answer.endpoints.length} endpoints reached`);
  const selected = state.selected && cy.getElementById(state.selected).nonempty() ? cy.getElementById(state.selected).data("node") : answer.field;
  select(selected);
}

/** Open the column lineage of a field (from a version's field list). */
function openColumn(field) {
  state.mode = "columns";
  state.ref = field.id || field.ref;
  state.selected = field.id || "";
  $("search").value = field.ref || field.label || field.id;
  load();
}

async function load() {
  const mine = ++loads;
  const graphEl = $("graph");
  graphEl.dataset.state = "loading";
  graphEl.dataset.mode = state.mode;
  syncControls();
  writeHash();
  status(`loading ${state.ref}…`);
  if (state.mode === "columns") {
    try {
      await loadColumns(mine);
    } catch (error) {
      if (mine !== loads) return;
      graphEl.dataset.state = "error";
      showWarnings(null);
      if (error instanceof ApiError && (error.status === 404 || error.status === 409)) offer(error);
      else status(`could not load the column lineage of ${state.ref}: ${error.message}`, "error");
    }
    return;
  }
  const direction = state.mode === "impact" ? "down" : state.direction;
  try {
    const [answer, impact] = await Promise.all([
      get("/graph", { ref: state.ref, direction, depth: state.depth, level: state.level }),
      state.mode === "impact" ? get("/impact", { ref: state.ref, depth: state.depth, level: state.level }) : null,
    ]);
    if (mine !== loads) return;
    const items = elements(answer);
    if (impact) items.push(...impactElements(answer, impact));
    await draw(cy, items);
    if (mine !== loads) return;
    showWarnings(impact || answer);
    if (impact) {
      highlight(cy, answer.root, impact);
      renderImpact($("impact"), impact, { onEndpoint: (e) => select({ id: e.id, kind: "Dataset", labels: ["Endpoint"], label: e.name }) });
    }
    const root = answer.nodes.find((n) => n.id === answer.root);
    state.ref = answer.root; // keep the resolved id: the hash then names one node for good
    writeHash();
    graphEl.dataset.root = answer.root;
    graphEl.dataset.nodes = String(answer.nodes.length);
    graphEl.dataset.level = answer.level || "version";
    graphEl.dataset.state = "ready";
    const level = answer.level === "dataset" ? " (each dataset and job once: select one and Expand for its versions)" : "";
    const partial = answer.partial ? ` (the first ${answer.nodes.length} of ${answer.page.total_nodes} nodes)` : "";
    status(`${root ? root.label : answer.root}: ${answer.nodes.length} nodes, ${answer.edges.length} edges${partial}${impact ? `, ${impact.endpoints.length} endpoints reached` : ""}${level}`);
    const selected = state.selected && cy.getElementById(state.selected).nonempty() ? cy.getElementById(state.selected).data("node") : root;
    if (selected) select(selected);
  } catch (error) {
    if (mine !== loads) return;
    graphEl.dataset.state = "error";
    showWarnings(null);
    if (error instanceof ApiError && (error.status === 404 || error.status === 409)) offer(error);
    else status(`could not load ${state.ref}: ${error.message}`, "error");
  }
}

function select(node) {
  state.selected = node.id;
  writeHash();
  cy.$(":selected").unselect();
  const drawn = cy.getElementById(node.id).union(cy.getElementById(`endpoint:${node.id}`));
  drawn.select();
  $("expand").disabled = !cy.getElementById(node.id).hasClass("collapsed") || cy.getElementById(node.id).hasClass("expanded");
  showDetail($("detail"), node, { onSelect: select, onFocus: (n) => pick(n), onColumn: openColumn });
}

/** Centre the view on a node (or on a typed ref); a field opens its column lineage. */
function pick(item) {
  if (item.kind === "Field") return openColumn(item);
  state.ref = item.id || item.ref;
  state.selected = item.id || "";
  $("search").value = item.ref || item.label || item.id;
  load();
}

/** Draw the selected dataset or job's versions or runs beside it (one page of them). */
async function expandSelected() {
  const target = cy.getElementById(state.selected);
  if (target.empty() || !target.hasClass("collapsed")) return;
  const node = target.data("node");
  const graphEl = $("graph");
  graphEl.dataset.state = "loading";
  $("expand").disabled = true;
  try {
    const direction = state.mode === "impact" ? "down" : state.direction;
    const page = await expand(cy, node, direction);
    await relayout(cy);
    const more = page.partial ? ` (the first ${EXPAND_LIMIT}; more with level "versions and runs")` : "";
    status(`${node.label}: ${page.nodes.length} versions, runs and neighbours added${more}`);
    graphEl.dataset.expanded = String(cy.nodes(".expanded").length);
    graphEl.dataset.state = "ready";
  } catch (error) {
    graphEl.dataset.state = "error";
    status(`could not expand ${node.label}: ${error.message}`, "error");
  }
}

function legend() {
  const entries = Object.entries(KINDS).map(([key, kind]) => h("li", {}, h("span.swatch", { dataset: { kind: key } }), kind.name));
  entries.push(
    h("li", {}, h("span.swatch.impact-serving"), "endpoint still serving an affected model"),
    h("li", {}, h("span.swatch.impact-past"), "endpoint that used to serve one"),
    h("li", {}, h("span.line.impact-path"), "impact path (in column mode: the columns that reach an endpoint)"),
  );
  fill($("legend"), h("ul", {}, entries));
}

function setupControls() {
  $("direction").addEventListener("change", () => {
    state.direction = $("direction").value;
    if (state.ref) load();
  });
  $("depth").addEventListener("change", () => {
    state.depth = Math.min(Math.max(Number($("depth").value) || 10, 1), 50);
    if (state.ref) load();
  });
  for (const button of document.querySelectorAll("[data-mode-button]")) {
    button.addEventListener("click", () => {
      state.mode = button.dataset.modeButton;
      if (state.ref) load();
      else syncControls();
    });
  }
  $("level").addEventListener("change", () => {
    state.level = $("level").value;
    if (state.ref) load();
  });
  $("expand").addEventListener("click", () => expandSelected());
  $("fit").addEventListener("click", () => cy.fit(undefined, 30));
  $("token-button").addEventListener("click", async () => {
    const given = await askToken(token() ? "Replace the token this tab sends." : "Paste a bearer token for this service.");
    if (given !== null) {
      setToken(given);
      if (state.ref) load();
    }
  });
}

const cy = createGraph($("graph"), (node) => select(node));
// For people poking at the page from the console, and for the browser tests.
window.lineageExplorer = { cy, state };
legend();
setupControls();
setupSearch($("search"), $("suggestions"), pick);
readHash();
syncControls();
if (state.ref) load();
else status("Search for a dataset version, model@version, endpoint, job, run or commit.");
