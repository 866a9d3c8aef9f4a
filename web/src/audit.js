// The audit report link. A plain link cannot carry a bearer token, so a click fetches the
// report with the token and saves the answer as a file; the href stays a real URL (for
// copying, and for services without auth).
import { send, url } from "./api.js";
import { h } from "./dom.js";

const FORMATS = ["html", "pdf", "md", "json", "csv"];

function filename(response, fallback) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  return match ? match[1] : fallback;
}

async function download(link, status) {
  status.textContent = "preparing the report…";
  const params = Object.fromEntries(new URL(link.href).searchParams);
  try {
    const response = await send("/audit", params);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.detail || `HTTP ${response.status}`);
    }
    const blob = await response.blob();
    const saver = h("a", { href: URL.createObjectURL(blob), download: filename(response, `audit.${params.format}`) });
    document.body.append(saver);
    saver.click();
    saver.remove();
    // The browser has taken the file once the click returns; free the blob a little later.
    setTimeout(() => URL.revokeObjectURL(saver.href), 10000);
    status.textContent = `saved ${saver.download} (log entries ${response.headers.get("X-Lineage-Log-Entries")}, head ${(response.headers.get("X-Lineage-Log-Head") || "").slice(0, 12)}…)`;
  } catch (error) {
    status.textContent = `report failed: ${error.message}`;
  }
}

/** Format picker and download link for the audit report of `ref`. */
export function auditControl(ref, label) {
  const status = h("span.small.muted#audit-status");
  const link = h("a#audit-link.button", { href: url("/audit", { ref, format: "html" }), download: "" }, `Audit report for ${label}`);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    download(link, status);
  });
  const picker = h(
    "select#audit-format",
    { "aria-label": "report format", onchange: () => (link.href = url("/audit", { ref, format: picker.value })) },
    FORMATS.map((f) => h("option", { value: f }, f)),
  );
  return h("div.audit", {}, link, " ", picker, " ", status);
}
