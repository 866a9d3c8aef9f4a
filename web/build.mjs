// Builds the explorer page into api/static/, where the Python package serves it from (issue 8).
// The output is committed, so `pip install` and offline use never need npm; `make web` reruns this.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "api", "static");

// Third-party code that ends up in app.js. cytoscape-dagre's dist carries @dagrejs/dagre 3.0.0
// and @dagrejs/graphlib 4.0.1 inside it; @dagrejs/dagre is a devDependency only so that those
// two packages' own license texts are at hand here.
const BUNDLED = ["cytoscape", "cytoscape-dagre", "@dagrejs/dagre", "@dagrejs/graphlib"];

// What the bundle is made from; its digest goes into build.json so a test can tell a stale
// bundle from a fresh one without npm (tests/web/test_assets.py computes the same digest).
export function sourceFiles() {
  const files = ["build.mjs", "package.json", "package-lock.json"];
  const walk = (dir) => {
    for (const entry of readdirSync(join(here, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk("src");
  return files.sort();
}

export function sourceDigest() {
  const digest = createHash("sha256");
  for (const file of sourceFiles()) {
    const content = readFileSync(join(here, file));
    digest.update(`${file}\n${createHash("sha256").update(content).digest("hex")}\n`);
  }
  return digest.digest("hex");
}

function licenses() {
  const parts = [
    "Third-party software bundled in app.js, with the license notice each one ships.\n",
  ];
  for (const name of BUNDLED) {
    const dir = join(here, "node_modules", name);
    const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const text = readFileSync(join(dir, "LICENSE"), "utf8").trim();
    parts.push(`${"=".repeat(72)}\n${meta.name} ${meta.version} (${meta.license})\n${"=".repeat(72)}\n${text}\n`);
  }
  return parts.join("\n");
}

// Code that cytoscape carries from elsewhere keeps its notice as a /*! */ comment; list those too.
function inlineNotices(bundle) {
  const found = [...new Set(bundle.match(/\/\*![\s\S]*?\*\//g) || [])];
  return `\n${"=".repeat(72)}\nNotices kept inline in app.js\n${"=".repeat(72)}\n${found.join("\n\n")}\n`;
}

// The API reference page (/docs, issue 31): Swagger UI as the pinned swagger-ui-dist package
// ships it, with our page and initializer, so it loads nothing from outside the service.
const SWAGGER_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];

function copyDocs() {
  const docs = join(out, "docs");
  mkdirSync(docs, { recursive: true });
  const dist = join(here, "node_modules", "swagger-ui-dist");
  for (const name of SWAGGER_FILES) {
    let content = readFileSync(join(dist, name));
    if (name.endsWith(".js") || name.endsWith(".css")) {
      // The source map is not shipped; the reference to it would only make browsers ask for it.
      content = Buffer.from(content.toString("utf8").replace(/\n\/[*/]# sourceMappingURL=\S+(\s*\*\/)?\s*$/, "\n"));
    }
    writeFileSync(join(docs, name), content);
  }
  const version = JSON.parse(readFileSync(join(dist, "package.json"), "utf8")).version;
  writeFileSync(join(docs, "VERSION"), `swagger-ui-dist ${version}\n`);
  copyFileSync(join(here, "src", "docs", "index.html"), join(docs, "index.html"));
  copyFileSync(join(here, "src", "docs", "init.js"), join(docs, "init.js"));
}

async function main() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, "src", "main.js")],
    bundle: true,
    format: "esm",
    target: ["es2020"],
    minify: true,
    // Keep the libraries' own license comments next to their code as well.
    legalComments: "inline",
    outfile: join(out, "app.js"),
    logLevel: "warning",
  });
  copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
  copyFileSync(join(here, "src", "style.css"), join(out, "style.css"));
  copyDocs();
  writeFileSync(join(out, "THIRD_PARTY_LICENSES.txt"), licenses() + inlineNotices(readFileSync(join(out, "app.js"), "utf8")));
  const files = sourceFiles();
  writeFileSync(join(out, "build.json"), JSON.stringify({ sources: files, sources_sha256: sourceDigest() }, null, 2) + "\n");
  console.log(`built ${relative(process.cwd(), out)} from ${files.length} source files`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
