// The console's one way to the gateway: its public APIs, with the key typed into this tab.
const KEY = "imagegate.key";
export const root = document.body.dataset.api || "";
export const base = document.body.dataset.base || "/console";

export function getKey() {
  return sessionStorage.getItem(KEY);
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  window.dispatchEvent(new CustomEvent("imagegate:key"));
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function headers(extra = {}) {
  const key = getKey();
  return key ? { Authorization: `Bearer ${key}`, ...extra } : { ...extra };
}

// fetch() on the gateway, the key added; an answer that is not 2xx is thrown as an ApiError
// carrying the gateway's own message (every dialect puts it in error.message).
export async function request(path, { method = "GET", body, signal, extraHeaders = {} } = {}) {
  const init = { method, signal, headers: headers(extraHeaders) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`${root}${path}`, init);
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function api(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

export async function errorOf(response) {
  let body = null;
  let message = `${response.status} ${response.statusText}`;
  try {
    body = await response.json();
    message = body?.error?.message || body?.detail || message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, body);
}

// Who the console is talking as: "protected" (no key needed), "key", "master", or "none" (a
// key is needed and none, or a bad one, is set).
export async function whoami() {
  try {
    const record = (await api("/api/v1/key")).data;
    const mode = record.mode || (record.is_management_key ? "master" : "key");
    return { mode, record };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      return { mode: "none", error: error.message };
    }
    throw error;
  }
}

// A query string from an object, leaving out empty values.
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    search.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
