import { resolve } from "node:path";
import type { Datastore } from "../datastore/contract.ts";
import { MemoryDatastore } from "../datastore/memory/memory-datastore.ts";
import { createSqliteDatastore } from "../datastore/sqlite/sqlite-datastore.ts";
import type { Clock } from "../internal/clock.ts";
import type { Queue } from "../queue/contract.ts";
import { MemoryQueue } from "../queue/memory/memory-queue.ts";
import { createSqliteQueue } from "../queue/sqlite/sqlite-queue.ts";
import { type BackendUrl, DEFAULT_BACKEND_URL, parseBackendUrl } from "./backend-url.ts";
import type { Backend } from "./contract.ts";
import { SeparateBackend } from "./separate-backend.ts";
import { SqliteBackend } from "./sqlite-backend.ts";
import { openSqlite } from "./sqlite-store.ts";

export interface BackendUrls {
  /** @defaultValue "sqlite:./zerog.db" */
  datastore?: string;
  /** @defaultValue "sqlite:./zerog.db" */
  queue?: string;
}

export interface OpenBackendOptions {
  clock?: Clock;
}

/**
 * Opens the datastore and queue the URLs name. Where both name the same SQLite file they share
 * one connection, and creating a job is one transaction.
 */
export function openBackend(urls: BackendUrls = {}, opts: OpenBackendOptions = {}): Backend {
  const ds = parseBackendUrl(urls.datastore ?? DEFAULT_BACKEND_URL);
  const q = parseBackendUrl(urls.queue ?? DEFAULT_BACKEND_URL);
  if (ds.scheme === "sqlite" && q.scheme === "sqlite" && sameFile(ds.path, q.path)) {
    return new SqliteBackend(openSqlite({ path: ds.path, ...(opts.clock ? { clock: opts.clock } : {}) }));
  }
  return new SeparateBackend(openDatastore(ds), openQueue(q, opts));
}

function openDatastore(url: BackendUrl): Datastore {
  switch (url.scheme) {
    case "memory":
      return new MemoryDatastore();
    case "sqlite":
      return createSqliteDatastore({ path: url.path });
  }
}

function openQueue(url: BackendUrl, opts: OpenBackendOptions): Queue {
  switch (url.scheme) {
    case "memory":
      return new MemoryQueue(opts.clock ? { clock: opts.clock } : {});
    case "sqlite":
      return createSqliteQueue({ path: url.path, ...(opts.clock ? { clock: opts.clock } : {}) });
  }
}

function sameFile(a: string, b: string): boolean {
  return a === b || (a !== ":memory:" && resolve(a) === resolve(b));
}
