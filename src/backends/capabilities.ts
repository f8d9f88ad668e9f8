import { type BackendUrls, DEFAULT_BACKEND_URL } from "./backend-url.ts";
import { type ResolvedUrl, resolveUrl } from "./registry.ts";

/** What a datastore URL and a queue URL give together, read from their drivers' descriptors. */
export interface BackendCapabilities {
  /** The drivers' names, e.g. `{ datastore: "postgres", queue: "redis" }`. */
  readonly drivers: { readonly datastore: string; readonly queue: string };
  /**
   * Creating a job and recording a run's outcome are one atomic step: both URLs name one store
   * of a driver with `oneTransaction`. False: two writes, one after the other (SeparateBackend).
   */
  readonly oneTransaction: boolean;
  /** Both halves live and die with the process that opens them (memory): no other process shares them. */
  readonly inProcess: boolean;
  /** How a new job reaches a waiting worker: see DriverCapabilities.notifications. */
  readonly notifications: "cross-process" | "in-process";
  /** How `GET /jobs` finds jobs: see DriverCapabilities.listing. */
  readonly listing: "indexed" | "scan";
}

/** The capabilities of the backend `openBackend(urls)` opens, without opening anything. */
export function backendCapabilities(urls: BackendUrls = {}): BackendCapabilities {
  return capabilitiesOf(
    resolveUrl(urls.datastore ?? DEFAULT_BACKEND_URL),
    resolveUrl(urls.queue ?? DEFAULT_BACKEND_URL),
  );
}

/** As `backendCapabilities`, for URLs already resolved. */
export function capabilitiesOf(ds: ResolvedUrl, q: ResolvedUrl): BackendCapabilities {
  const same = ds.driver === q.driver && ds.driver.sameStore?.(ds.config, q.config) === true;
  const d = ds.driver.capabilities;
  const qc = q.driver.capabilities;
  return {
    drivers: { datastore: ds.driver.name, queue: q.driver.name },
    oneTransaction: same && d.oneTransaction && ds.driver.open !== undefined,
    inProcess: !d.multiProcess && !qc.multiProcess,
    // registerDriver makes sure a queue driver says how it notifies and a datastore driver how it lists.
    notifications: qc.notifications ?? "in-process",
    listing: d.listing ?? "scan",
  };
}
