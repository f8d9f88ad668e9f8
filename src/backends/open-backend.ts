import { resolve } from "node:path";
import type { Backend } from "../contracts/backend.ts";
import { InvalidConfigError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import { type BackendUrl, DEFAULT_BACKEND_URL, parseBackendUrl, sameStore } from "./backend-url.ts";
import { MemoryDatastore } from "./memory/memory-datastore.ts";
import { MemoryFleetStore } from "./memory/memory-fleet.ts";
import { MemoryQueue } from "./memory/memory-queue.ts";
import type { ReconcilerOptions } from "./reconciler.ts";
import { SeparateBackend } from "./separate-backend.ts";
import { SqliteBackend } from "./sqlite/sqlite-backend.ts";
import { openSqlite } from "./sqlite/sqlite-store.ts";

export interface BackendUrls {
  /** @defaultValue "sqlite:./zerog.db" */
  datastore?: string;
  /** @defaultValue "sqlite:./zerog.db" */
  queue?: string;
}

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
  const ds = parseBackendUrl(urls.datastore ?? DEFAULT_BACKEND_URL);
  const q = parseBackendUrl(urls.queue ?? DEFAULT_BACKEND_URL);
  if (ds.scheme === "beanstalk") {
    throw new InvalidConfigError(
      `'${ds.url}' is a queue only (Beanstalkd stores no documents); use it as the queue URL`,
    );
  }
  if (q.scheme === "couchbase") {
    throw new InvalidConfigError(
      "a couchbase:// URL is a datastore only (Couchbase holds the documents, not a queue); use it as the datastore URL, with a sqlite:, postgres://, redis:// or beanstalk:// queue",
    );
  }
  if (ds.scheme !== "couchbase" && sameStore(ds, q, sameFile)) return openStore(ds, opts);
  const [forData, forQueue] = await openBoth(openDatastore(ds, opts), openQueue(q, opts));
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
  const inProcess = !backend.datastore.capabilities.multiProcess && !backend.queue.capabilities.multiProcess;
  if (opts.reconciler !== false && !inProcess) backend.startReconciler();
  return backend;
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
async function openDatastore(
  url: Exclude<BackendUrl, { scheme: "beanstalk" }>,
  opts: OpenBackendOptions,
): Promise<Pick<Backend, "datastore" | "fleet" | "close">> {
  if (url.scheme !== "couchbase") return openStore(url, opts);
  // Loads the couchbase package, an optional dependency, only for a couchbase:// URL.
  const { openCouchbase } = await import("./couchbase/open-couchbase.ts");
  const { datastore, fleet } = await openCouchbase({ url });
  return { datastore, fleet, close: () => datastore.close() };
}

/** The queue half of `url`: a queue-only service, or the queue of a store (which it closes with). */
async function openQueue(
  url: Exclude<BackendUrl, { scheme: "couchbase" }>,
  opts: OpenBackendOptions,
): Promise<Pick<Backend, "queue" | "close">> {
  if (url.scheme !== "beanstalk") return openStore(url, opts);
  const { createBeanstalkQueue } = await import("./beanstalkd/beanstalk-queue.ts");
  const queue = await createBeanstalkQueue({ url: url.url });
  return { queue, close: () => queue.close() };
}

/** One store serving both contracts. Drivers for PostgreSQL and Redis load only when their URL is used. */
async function openStore(
  url: Exclude<BackendUrl, { scheme: "beanstalk" | "couchbase" }>,
  opts: OpenBackendOptions,
): Promise<Backend> {
  const clock = opts.clock ? { clock: opts.clock } : {};
  switch (url.scheme) {
    case "memory":
      return new SeparateBackend(new MemoryDatastore(), new MemoryQueue(clock), {
        ...clock,
        fleet: new MemoryFleetStore(),
      });
    case "sqlite":
      return new SqliteBackend(openSqlite({ path: url.path, ...clock }));
    case "postgres": {
      const { openPostgresBackend } = await import("./postgres/postgres-backend.ts");
      return openPostgresBackend({ url: url.url, schema: url.schema, ...clock });
    }
    case "redis": {
      const { openRedisBackend } = await import("./redis/redis-backend.ts");
      return openRedisBackend({ url: url.url, prefix: url.prefix, ...clock });
    }
  }
}

function sameFile(a: string, b: string): boolean {
  return a === b || (a !== ":memory:" && resolve(a) === resolve(b));
}
