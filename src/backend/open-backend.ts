import { resolve } from "node:path";
import type { Datastore } from "../datastore/contract.ts";
import { MemoryDatastore } from "../datastore/memory/memory-datastore.ts";
import type { Clock } from "../internal/clock.ts";
import type { Queue } from "../queue/contract.ts";
import { MemoryQueue } from "../queue/memory/memory-queue.ts";
import { type BackendUrl, DEFAULT_BACKEND_URL, parseBackendUrl } from "./backend-url.ts";
import type { Backend } from "./contract.ts";
import { SeparateBackend } from "./separate-backend.ts";
import { SqliteBackend } from "./sqlite-backend.ts";
import { openSqlite, type SqliteStore } from "./sqlite-store.ts";

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
    return new SqliteBackend(openSqliteStore(ds.path, opts));
  }
  return new SeparateBackend(openDatastore(ds, opts), openQueue(q, opts));
}

function openDatastore(url: BackendUrl, opts: OpenBackendOptions): Datastore {
  switch (url.scheme) {
    case "memory":
      return new MemoryDatastore();
    case "sqlite":
      return openSqliteStore(url.path, opts).datastore;
  }
}

function openQueue(url: BackendUrl, opts: OpenBackendOptions): Queue {
  switch (url.scheme) {
    case "memory":
      return new MemoryQueue(opts.clock ? { clock: opts.clock } : {});
    case "sqlite":
      return openSqliteStore(url.path, opts).queue;
  }
}

function openSqliteStore(path: string, opts: OpenBackendOptions): SqliteStore {
  return openSqlite({ path, ...(opts.clock ? { clock: opts.clock } : {}) });
}

function sameFile(a: string, b: string): boolean {
  return a === b || (a !== ":memory:" && resolve(a) === resolve(b));
}
