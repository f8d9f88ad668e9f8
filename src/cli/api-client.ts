import { ZeroGError } from "../errors.ts";

/** Where the CLI finds a running server's REST API. */
export const DEFAULT_API_URL = "http://127.0.0.1:8888";

/**
 * Calls a ZeroG server's REST API; an error answer becomes a ZeroGError with the server's
 * message, and an unreachable server says which URL it tried.
 */
export async function callApi(base: string, method: "GET" | "POST", path: string): Promise<unknown> {
  const url = new URL(path, base.endsWith("/") ? base : `${base}/`);
  let res: Response;
  try {
    res = await fetch(url, { method, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new ZeroGError("ZEROG_BACKEND_DOWN", `cannot reach the ZeroG API at ${url.origin}: ${why}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the message below.
  }
  if (!res.ok) {
    const e = body as { error?: string; message?: string };
    throw new ZeroGError("ZEROG_BAD_REQUEST", `${method} ${url.pathname}: ${res.status} ${e.message ?? text}`);
  }
  return body;
}
