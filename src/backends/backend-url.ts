import { InvalidConfigError } from "../errors.ts";
import { type CouchbaseUrl, parseCouchbaseUrl } from "./couchbase/couchbase-url.ts";

/** A parsed backend URL: which implementation, and where. */
export type BackendUrl =
  | { scheme: "memory" }
  | { scheme: "sqlite"; path: string }
  /** `url` without ZeroG's own `schema` parameter, as the driver takes it. */
  | { scheme: "postgres"; url: string; schema: string }
  /** `url` without ZeroG's own `prefix` parameter, as the driver takes it. */
  | { scheme: "redis"; url: string; prefix: string }
  /** A queue only: `beanstalk://host:11300`. */
  | { scheme: "beanstalk"; url: string }
  /** A datastore only: `couchbase://host/bucket?username=…` (see src/backends/couchbase/couchbase-url.ts). */
  | CouchbaseUrl;

/** The default for both datastore and queue: one SQLite file in the working directory. */
export const DEFAULT_BACKEND_URL = "sqlite:./zerog.db";

/** Where ZeroG's tables (PostgreSQL schema) or keys (Redis prefix) live unless the URL says otherwise. */
export const DEFAULT_NAMESPACE = "zerog";

const SUPPORTED =
  "memory:, sqlite:./file.db (or sqlite::memory:), postgres://user@host:5432/db[?schema=zerog], redis://host:6379[/db][?prefix=zerog], beanstalk://host:11300 (queue only), couchbase://host/bucket?username=name (datastore only)";

/**
 * Schema names and key prefixes end up in SQL identifiers and key names: keep them plain.
 * PostgreSQL's is stricter (lowercase, ≤ 48) because it travels unquoted in `search_path`.
 */
const NAMESPACE_PATTERN = { schema: /^[a-z_][a-z0-9_]{0,47}$/, prefix: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/ } as const;

/**
 * `sqlite:./zerog.db`, `sqlite:/abs/path.db`, `sqlite:///abs/path.db`, `sqlite::memory:`, `memory:`,
 * `postgres://…?schema=name`, `redis://…?prefix=name`, `beanstalk://host:port` (a queue only),
 * `couchbase://host/bucket?username=name` (a datastore only). Unknown schemes are refused with the list of supported ones.
 */
export function parseBackendUrl(url: string): BackendUrl {
  const colon = url.indexOf(":");
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : "";
  const rest = colon > 0 ? url.slice(colon + 1) : "";
  switch (scheme) {
    case "memory":
      return { scheme: "memory" };
    case "sqlite": {
      const path = rest.startsWith("//") ? rest.slice(2) : rest;
      if (path === "") throw new InvalidConfigError(`backend URL '${url}' has no file path (e.g. sqlite:./zerog.db)`);
      return { scheme: "sqlite", path };
    }
    case "postgres":
    case "postgresql": {
      const { driverUrl, namespace } = splitNamespace(url, "schema");
      return { scheme: "postgres", url: driverUrl, schema: namespace };
    }
    case "redis":
    case "rediss": {
      const { driverUrl, namespace } = splitNamespace(url, "prefix");
      return { scheme: "redis", url: driverUrl, prefix: namespace };
    }
    case "beanstalk":
      return { scheme: "beanstalk", url };
    case "couchbase":
    case "couchbases":
      return parseCouchbaseUrl(url);
    default:
      throw new InvalidConfigError(`unsupported backend URL '${url}'; supported: ${SUPPORTED}`);
  }
}

/** Takes ZeroG's own query parameter (`schema` / `prefix`) out of a driver URL. */
function splitNamespace(url: string, param: "schema" | "prefix"): { driverUrl: string; namespace: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidConfigError(`backend URL '${url}' is not a valid URL`);
  }
  const namespace = parsed.searchParams.get(param) ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE_PATTERN[param].test(namespace)) {
    const rule = param === "schema" ? "1-48 lowercase letters, digits and '_'" : "1-63 letters, digits and '_'";
    throw new InvalidConfigError(`${param} '${namespace}' in '${url}' must be ${rule}, not starting with a digit`);
  }
  parsed.searchParams.delete(param);
  return { driverUrl: parsed.toString(), namespace };
}

/** Two parsed URLs name the same store, so one backend can serve both contracts. */
export function sameStore(a: BackendUrl, b: BackendUrl, sameFile: (x: string, y: string) => boolean): boolean {
  if (a.scheme === "sqlite" && b.scheme === "sqlite") return sameFile(a.path, b.path);
  if (a.scheme === "postgres" && b.scheme === "postgres") return a.url === b.url && a.schema === b.schema;
  if (a.scheme === "redis" && b.scheme === "redis") return a.url === b.url && a.prefix === b.prefix;
  return false;
}
