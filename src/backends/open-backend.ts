import type { Backend } from "../contracts/backend.ts";
import type { DatastoreHalf, DriverOpenOptions, QueueHalf } from "../contracts/driver.ts";
import { InvalidConfigError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import { type BackendUrls, DEFAULT_BACKEND_URL } from "./backend-url.ts";
import { capabilitiesOf } from "./capabilities.ts";
import type { ReconcilerOptions } from "./reconciler.ts";
import { type ResolvedUrl, resolveUrl } from "./registry.ts";
import { SeparateBackend } from "./separate-backend.ts";

export interface OpenBackendOptions {
  clock?: Clock;
  /**
   * Where the datastore and the queue are two stores: the search for waiting jobs whose queue
   * entry was lost (see docs/backends.md, Beanstalkd), or false to run none in this process.
   */
  reconciler?: ReconcilerOptions | false;
}

/**
 * Opens the datastore and queue the URLs name. Where both name the same store (one SQLite file,
 * one PostgreSQL schema, one Redis prefix) one backend serves both, and creating a job or
 * recording its outcome is one transaction; otherwise each side's store is opened and only its
 * half is used.
 */
export async function openBackend(urls: BackendUrls = {}, opts: OpenBackendOptions = {}): Promise<Backend> {
  const ds = resolveUrl(urls.datastore ?? DEFAULT_BACKEND_URL);
  const q = resolveUrl(urls.queue ?? DEFAULT_BACKEND_URL);
  refuseMissingHalf(ds, "datastore");
  refuseMissingHalf(q, "queue");
  const driverOpts: DriverOpenOptions = opts.clock ? { clock: opts.clock } : {};
  const capabilities = capabilitiesOf(ds, q);
  if (capabilities.oneTransaction && ds.driver.open) return ds.driver.open(ds.config, driverOpts);
  const [forData, forQueue] = await openBoth(openDatastore(ds, driverOpts), openQueue(q, driverOpts));
  const backend = new SeparateBackend(forData.datastore, forQueue.queue, {
    // The fleet lives with the documents: a queue-only service (Beanstalkd) keeps none.
    fleet: forData.fleet,
    close: async () => {
      await Promise.allSettled([forData.close(), forQueue.close()]);
    },
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.reconciler ? { reconciler: opts.reconciler } : {}),
  });
  // Jobs a process stored but did not get to enqueue (it died in between, or the queue was down).
  backend.recoverInBackground();
  // Entries the queue loses on its own: unless both halves live and die with this process.
  if (opts.reconciler !== false && !capabilities.inProcess) backend.startReconciler();
  return backend;
}

/** A queue-only URL given as the datastore, or a datastore-only one as the queue, is refused before anything opens. */
function refuseMissingHalf({ url, driver }: ResolvedUrl, half: "datastore" | "queue"): void {
  if (driver.provides[half]) return;
  throw new InvalidConfigError(
    driver.misuseMessage?.(half, url) ??
      `'${url}' names a ${driver.name} store, which provides no ${half}; use it as the ${half === "queue" ? "datastore" : "queue"} URL`,
  );
}

/** Both halves, or neither: when one fails to open, the other is closed (a Couchbase cluster would keep the process alive). */
async function openBoth<A extends Closable, B extends Closable>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === "fulfilled" && rb.status === "fulfilled") return [ra.value, rb.value];
  await Promise.allSettled([ra, rb].map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)));
  throw ra.status === "rejected" ? ra.reason : (rb as PromiseRejectedResult).reason;
}

interface Closable {
  close(): Promise<void>;
}

/**
 * The datastore half of `url` and its fleet: a datastore-only service, or the datastore of a
 * store (which it closes with).
 */
async function openDatastore({ driver, config }: ResolvedUrl, opts: DriverOpenOptions): Promise<DatastoreHalf> {
  if (driver.openDatastore) return driver.openDatastore(config, opts);
  if (driver.open) return driver.open(config, opts);
  throw new InvalidConfigError(`driver '${driver.name}' cannot open a datastore`);
}

/** The queue half of `url`: a queue-only service, or the queue of a store (which it closes with). */
async function openQueue({ driver, config }: ResolvedUrl, opts: DriverOpenOptions): Promise<QueueHalf> {
  if (driver.openQueue) return driver.openQueue(config, opts);
  if (driver.open) return driver.open(config, opts);
  throw new InvalidConfigError(`driver '${driver.name}' cannot open a queue`);
}
