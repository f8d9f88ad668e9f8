import { describe, expect, it } from "vitest";
import { openBackend } from "zerog";
import { parseBackendUrl } from "../../src/backends/backend-url.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { SqliteBackend } from "../../src/backends/sqlite/sqlite-backend.ts";
import { SqliteFleetStore } from "../../src/backends/sqlite/sqlite-fleet.ts";
import { makeDocument } from "../helpers/documents.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

describe("backend URLs", () => {
  it("parses the supported forms", () => {
    expect(parseBackendUrl("sqlite:./zerog.db")).toEqual({ scheme: "sqlite", path: "./zerog.db" });
    expect(parseBackendUrl("sqlite:///var/lib/z.db")).toEqual({ scheme: "sqlite", path: "/var/lib/z.db" });
    expect(parseBackendUrl("sqlite::memory:")).toEqual({ scheme: "sqlite", path: ":memory:" });
    expect(parseBackendUrl("memory:")).toEqual({ scheme: "memory" });
    expect(parseBackendUrl("postgres://u@h:5432/db?schema=s1&sslmode=disable")).toEqual({
      scheme: "postgres",
      url: "postgres://u@h:5432/db?sslmode=disable",
      schema: "s1",
    });
    expect(parseBackendUrl("redis://h:6379/2")).toEqual({ scheme: "redis", url: "redis://h:6379/2", prefix: "zerog" });
  });

  it("refuses what it cannot open, saying what it can", () => {
    expect(() => parseBackendUrl("mongodb://x")).toThrow(
      /unsupported backend URL 'mongodb:\/\/x'; supported: memory:, sqlite:/,
    );
    expect(() => parseBackendUrl("sqlite:")).toThrow(/has no file path/);
    expect(() => parseBackendUrl("zerog.db")).toThrow(/unsupported backend URL/);
  });

  it("shares one SQLite file between datastore and queue when both name it, however spelled", async () => {
    const path = tempDbPath();
    const shared = await openBackend({ datastore: `sqlite:${path}`, queue: `sqlite://${path}` });
    expect(shared).toBeInstanceOf(SqliteBackend);
    await shared.close();
  });

  it("mixes backends, creating a job across both", async () => {
    const backend = await openBackend({ datastore: `sqlite:${tempDbPath()}`, queue: "memory:" });
    expect(backend).toBeInstanceOf(SeparateBackend);
    const doc = makeDocument();
    const entryId = await backend.createJob(doc, {});
    expect((await backend.datastore.read(doc.uuid))?.value.queueJobId).toBe(entryId);
    expect((await backend.queue.reserve([doc.queueName], { timeoutMs: 0 }))?.id).toBe(entryId);
    await backend.close();
  });

  it("takes the fleet from the datastore's side, which keeps it for every process on it", async () => {
    const path = tempDbPath();
    const mixed = await openBackend({ datastore: `sqlite:${path}`, queue: "memory:" });
    const other = await openBackend({ datastore: "memory:", queue: `sqlite:${path}` });
    const memory = await openBackend({ datastore: "memory:", queue: "memory:" });
    expect(mixed.fleet).toBeInstanceOf(SqliteFleetStore);
    expect(other.fleet).toBeInstanceOf(MemoryFleetStore);
    expect(memory.fleet).toBeInstanceOf(MemoryFleetStore);
    await Promise.all([mixed.close(), other.close(), memory.close()]);
  });
});
