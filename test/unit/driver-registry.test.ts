import { describe, expect, it } from "vitest";
import {
  type BackendDriver,
  backendCapabilities,
  isZeroGError,
  openBackend,
  registerDriver,
  SeparateBackend,
  Server,
} from "zerog";
import { memoryDriver } from "../../src/backends/memory/driver.ts";
import { toZeroGError } from "../../src/server/http-errors.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { ReturnJob } from "../helpers/test-jobs.ts";

const codeOf = (err: unknown) => (isZeroGError(err) ? err.code : err);

/** The memory driver under a scheme of its own, as a user's package would register it. */
let opened = 0;
const myMemory: BackendDriver<{ scheme: "mymem" }> = {
  name: "mymem",
  schemes: ["mymem:"],
  example: "mymem:",
  provides: memoryDriver.provides,
  capabilities: memoryDriver.capabilities,
  parseUrl: () => ({ scheme: "mymem" }),
  openDatastore: (_config, opts) => {
    opened += 1;
    return memoryDriver.openDatastore?.({ scheme: "memory" }, opts) ?? Promise.reject(new Error("no datastore"));
  },
  openQueue: (_config, opts) => {
    opened += 1;
    return memoryDriver.openQueue?.({ scheme: "memory" }, opts) ?? Promise.reject(new Error("no queue"));
  },
};
registerDriver(myMemory);

describe("the driver registry", () => {
  it("opens a registered driver's URLs", async () => {
    const before = opened;
    const backend = await openBackend({ datastore: "mymem:", queue: "mymem:" });
    expect(backend).toBeInstanceOf(SeparateBackend);
    expect(opened - before).toBe(2); // oneTransaction is false: each half is opened on its own
    await backend.close();
  });

  it("runs a job end to end on a registered driver, through Server", async () => {
    const server = new Server({ jobs: [ReturnJob], datastore: "mymem:", queue: "mymem:", concurrency: 1 });
    await server.start();
    try {
      const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
      const uuid = await server.client.create("return_value", { ret: 200 });
      expect((await watcher.finished(uuid)).resultCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("refuses a scheme that is already registered, naming its driver", () => {
    let err: unknown;
    try {
      registerDriver({ ...myMemory, name: "other", schemes: ["postgresql:"] });
    } catch (e) {
      err = e;
    }
    expect(codeOf(err)).toBe("ZEROG_INVALID_CONFIG");
    expect(String(err)).toMatch(/scheme 'postgresql:' is already registered by driver 'postgres'/);
    expect(() => registerDriver(myMemory)).toThrow(/'mymem:' is already registered by driver 'mymem'/);
  });

  it("refuses a descriptor that cannot open what it says it provides", () => {
    const { openQueue: _openQueue, ...noOpen } = myMemory;
    expect(() => registerDriver({ ...noOpen, schemes: ["noopen:"] })).toThrow(
      /provides a queue but has no open or openQueue/,
    );
  });

  it("refuses a descriptor that does not say how its queue notifies or how its datastore lists", () => {
    const { notifications: _n, ...silentQueue } = myMemory.capabilities;
    expect(() => registerDriver({ ...myMemory, schemes: ["nonotify:"], capabilities: silentQueue })).toThrow(
      /provides a queue but does not say how it notifies/,
    );
    const { listing: _l, ...silentList } = myMemory.capabilities;
    expect(() => registerDriver({ ...myMemory, schemes: ["nolist:"], capabilities: silentList })).toThrow(
      /provides a datastore but does not say how it lists/,
    );
  });

  it("reads what a pair of URLs can do from the drivers' descriptors, opening nothing", () => {
    expect(backendCapabilities({ datastore: "sqlite:/tmp/a.db", queue: "sqlite:/tmp/a.db" })).toEqual({
      drivers: { datastore: "sqlite", queue: "sqlite" },
      oneTransaction: true,
      inProcess: false,
      notifications: "in-process",
      listing: "indexed",
    });
    // Two files are two stores: two writes, however capable the driver.
    expect(backendCapabilities({ datastore: "sqlite:/tmp/a.db", queue: "sqlite:/tmp/b.db" }).oneTransaction).toBe(
      false,
    );
    const pair = backendCapabilities({ datastore: "postgres://127.0.0.1:1/x", queue: "beanstalk://127.0.0.1:1" });
    expect(pair).toMatchObject({ oneTransaction: false, notifications: "cross-process", listing: "indexed" });
    expect(backendCapabilities({ datastore: "mymem:", queue: "memory:" })).toMatchObject({
      drivers: { datastore: "mymem", queue: "memory" },
      inProcess: true,
      listing: "scan",
    });
    expect(backendCapabilities({ datastore: "memory:", queue: "redis://127.0.0.1:1" }).inProcess).toBe(false);
  });

  it("lists every registered scheme's form when a URL's scheme is unknown", async () => {
    const err = await openBackend({ datastore: "mongodb://x", queue: "memory:" }).catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ZEROG_INVALID_CONFIG");
    expect(String(err)).toMatch(/unsupported backend URL 'mongodb:\/\/x'; supported: memory:, sqlite:/);
    expect(String(err)).toMatch(/couchbase:\/\/host\/bucket\?username=name \(datastore only\), mymem:$/);
  });

  it("maps a client library's own error codes through its driver (SQLite's busy and I/O codes)", () => {
    const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    expect(toZeroGError(busy).code).toBe("ZEROG_BACKEND_DOWN");
    expect(toZeroGError(Object.assign(new Error("x"), { code: "SQLITE_CONSTRAINT" })).code).toBe("ZEROG_INTERNAL");
  });
});
