// The REST API, same origin: fetch with the API token, the token form on 401, errors in the banner.

const TOKEN_KEY = "zerog.apiToken";

/** An answer that was not 2xx: the API's `{error, message, issues?}` and the HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error ?? "";
    this.issues = Array.isArray(body?.issues) ? body.issues : [];
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

/** Resolves once the user saves a token; every call that got 401 waits on the same one. */
let tokenSaved = null;

function askForToken(message) {
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  document.getElementById("token-why").textContent = token()
    ? `The API token was refused: ${message}`
    : "This server needs an API token.";
  if (!tokenSaved) {
    tokenSaved = new Promise((resolve) => {
      form.onsubmit = (e) => {
        e.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        sessionStorage.setItem(TOKEN_KEY, value);
        input.value = "";
        form.hidden = true;
        tokenSaved = null;
        resolve();
      };
    });
  }
  if (form.hidden) {
    form.hidden = false;
    input.focus();
  }
  return tokenSaved;
}

/**
 * One API call: JSON in and out. A 401 shows the token form and retries once a token is saved;
 * any other non-2xx throws ApiError. `quiet` leaves the banner alone (the caller shows the error).
 */
export async function api(method, path, body, { quiet = false } = {}) {
  for (;;) {
    const headers = { accept: "application/json" };
    if (token()) headers.authorization = `Bearer ${token()}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const e = new ApiError(0, { message: `cannot reach the server: ${err.message}` });
      if (!quiet) showError(e.message);
      throw e;
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { message: text };
    }
    if (res.status === 401) {
      await askForToken(data?.message ?? "unauthorized");
      continue; // retry with the new token
    }
    if (!res.ok) {
      const e = new ApiError(res.status, data);
      if (!quiet) showError(e.message);
      throw e;
    }
    return data;
  }
}

/** The URL of GET /events/{uuid}: an EventSource cannot send headers, so the token goes in the query. */
export function eventsUrl(uuid, query = {}) {
  const q = new URLSearchParams(query);
  if (token()) q.set("access_token", token());
  const s = q.toString();
  return `/events/${encodeURIComponent(uuid)}${s ? `?${s}` : ""}`;
}

/** The banner at the top (role="alert"); unchanged text is not written again, so it is announced once. */
export function showError(message) {
  const text = document.getElementById("banner-text");
  if (text.textContent !== message) text.textContent = message;
  document.getElementById("banner").hidden = false;
}

export function clearError() {
  document.getElementById("banner").hidden = true;
  document.getElementById("banner-text").textContent = "";
}

/** The polite status line at the bottom: what an action did. */
export function say(message) {
  document.getElementById("status").textContent = message;
}
