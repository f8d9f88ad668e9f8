import { InvalidConfigError } from "../errors.ts";

/** A parsed backend URL: which implementation, and where. */
export type BackendUrl = { scheme: "memory" } | { scheme: "sqlite"; path: string };

/** The default for both datastore and queue: one SQLite file in the working directory. */
export const DEFAULT_BACKEND_URL = "sqlite:./zerog.db";

const SUPPORTED = "memory:, sqlite:./file.db (or sqlite::memory:)";

/**
 * `sqlite:./zerog.db`, `sqlite:/abs/path.db`, `sqlite:///abs/path.db`, `sqlite::memory:`, `memory:`.
 * Unknown schemes are refused with the list of supported ones.
 */
export function parseBackendUrl(url: string): BackendUrl {
  const colon = url.indexOf(":");
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : "";
  const rest = colon > 0 ? url.slice(colon + 1) : "";
  if (scheme === "memory") return { scheme: "memory" };
  if (scheme === "sqlite") {
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (path === "") throw new InvalidConfigError(`backend URL '${url}' has no file path (e.g. sqlite:./zerog.db)`);
    return { scheme: "sqlite", path };
  }
  throw new InvalidConfigError(`unsupported backend URL '${url}'; supported: ${SUPPORTED}`);
}
