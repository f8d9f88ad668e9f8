import { ZeroGError } from "../errors.ts";

/** Where the CLI finds a running server's REST API. */
export const DEFAULT_API_URL = "http://127.0.0.1:8888";

/** Every client command's `--url` option: flags, description, default (ZEROG_URL, else the local server). */
export const URL_OPTION = [
  "--url <url>",
  "the ZeroG server's API (env ZEROG_URL)",
  process.env.ZEROG_URL ?? DEFAULT_API_URL,
] as const;

/**
 * Calls a ZeroG server's REST API, with `Authorization: Bearer $ZEROG_API_TOKEN` when that is
 * set; an error answer becomes a ZeroGError with the server's
 * message, and an unreachable server says which URL it tried.
 */
export async function callApi(
  base: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  /** A JSON body (sent with `content-type: application/json`) and extra headers. */
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<unknown> {
  const url = new URL(path, base.endsWith("/") ? base : `${base}/`);
  let res: Response;
  try {
    const token = process.env.ZEROG_API_TOKEN;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    Object.assign(headers, opts.headers);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    res = await fetch(url, {
      method,
      headers,
      signal: AbortSignal.timeout(30_000),
      ...(body === undefined ? {} : { body }),
    });
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
