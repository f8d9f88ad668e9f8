import { type BuiltInUrl, resolveUrl } from "./registry.ts";

export { DEFAULT_NAMESPACE } from "../contracts/namespace.ts";

/** A parsed backend URL of a built-in driver: which implementation, and where. */
export type BackendUrl = BuiltInUrl;

/** The default for both datastore and queue: one SQLite file in the working directory. */
export const DEFAULT_BACKEND_URL = "sqlite:./zerog.db";

/**
 * `sqlite:./zerog.db`, `sqlite:/abs/path.db`, `sqlite:///abs/path.db`, `sqlite::memory:`, `memory:`,
 * `postgres://…?schema=name`, `redis://…?prefix=name`, `beanstalk://host:port` (a queue only),
 * `couchbase://host/bucket?username=name` (a datastore only), parsed by their drivers (see
 * src/backends/registry.ts). Unknown schemes are refused with the list of supported ones. A URL of
 * a driver registered with `registerDriver` parses to that driver's own config, which this type
 * does not describe.
 */
export function parseBackendUrl(url: string): BackendUrl {
  return resolveUrl(url).config as BackendUrl;
}

/** The URLs of a backend's two halves. */
export interface BackendUrls {
  /** @defaultValue "sqlite:./zerog.db" */
  datastore?: string;
  /** @defaultValue "sqlite:./zerog.db" */
  queue?: string;
}
