// The JSON API of the service (README "HTTP API (v1)"), called with the bearer token the person
// gave, if any. The page itself needs no token; when a call answers 401 the person is asked for
// one (kept in sessionStorage, so it goes away with the tab) and the call is made again.
import { askToken } from "./token.js";

const TOKEN_KEY = "lineage.token";
const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** A URL under /api/v1 with query parameters (empty ones left out). */
export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return `${BASE}${path}${text ? `?${text}` : ""}`;
}

/** fetch with the token; on 401, ask for a token and try again until it works or is refused. */
export async function send(path, params = {}) {
  let problem = "";
  for (;;) {
    const headers = { Accept: "application/json" };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    const response = await fetch(url(path, params), { headers });
    if (response.status !== 401) return response;
    const body = await response.json().catch(() => ({}));
    problem = token() ? `The token was refused: ${body.detail || "unknown or revoked"}.` : "This service needs a token.";
    const given = await askToken(problem);
    if (given === null) throw new ApiError(401, body);
    setToken(given);
  }
}

/** GET a JSON answer; non-2xx answers become an ApiError carrying the error body. */
export async function get(path, params = {}) {
  const response = await send(path, params);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}
