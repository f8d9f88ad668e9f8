import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../src/backends/sqlite/sqlite-store.ts";
import { makeDocument } from "../helpers/documents.ts";
import type { ChildResult } from "../helpers/sqlite-child.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

const CHILD = fileURLToPath(new URL("../helpers/sqlite-child.ts", import.meta.url));
const PROCESSES = 4;

/** Starts `count` children, lets them go at the same moment, and collects their results. */
async function runChildren(args: string[], count = PROCESSES): Promise<ChildResult[]> {
  const children = Array.from({ length: count }, () =>
    fork(CHILD, args, { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  await Promise.all(children.map((c) => once(c, "message")));
  const results = children.map(async (c) => {
    const exited = once(c, "exit");
    const [result] = (await once(c, "message")) as [ChildResult];
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
    return result;
  });
  for (const c of children) c.send("go");
  return Promise.all(results);
}

describe("sqlite shared by several processes", () => {
  it("keeps every CAS increment", async () => {
    const path = tempDbPath();
    const store = openSqlite({ path });
    const doc = makeDocument({ tickcount: 0 });
    await store.datastore.create(doc);
    const perChild = 300;
    const results = await runChildren(["cas", path, doc.uuid, String(perChild)]);
    expect((await store.datastore.read(doc.uuid))?.value.tickcount).toBe(PROCESSES * perChild);
    // The processes did race: some increments had to retry.
    const conflicts = results.reduce((n, r) => n + (r.mode === "cas" ? r.conflicts : 0), 0);
    expect(conflicts).toBeGreaterThan(0);
    await store.close();
  });

  it("hands each entry to exactly one process", async () => {
    const path = tempDbPath();
    const store = openSqlite({ path });
    const puts = Array.from({ length: 3000 }, (_, i) => store.queue.put("jobs", `e${i}`));
    const putIds = await Promise.all(puts);
    const results = await runChildren(["reserve", path, "jobs"]);
    const got = results.flatMap((r) => (r.mode === "reserve" ? r.ids : []));
    expect(got).toHaveLength(putIds.length);
    expect(new Set(got)).toEqual(new Set(putIds));
    // Several processes took a share, so the write lock really was contended. Not all of them
    // need to: SQLite's busy handler backs off by sleeping, which is not fair to a late starter.
    const sharing = results.filter((r) => r.mode === "reserve" && r.ids.length > 0);
    expect(sharing.length).toBeGreaterThanOrEqual(2);
    expect(await store.queue.stats("jobs")).toEqual({ queue: "jobs", ready: 0, delayed: 0, reserved: 0, buried: 0 });
    await store.close();
  });

  it("wakes a waiting reserve as soon as another process puts an entry, without waiting for the poll", async () => {
    const path = tempDbPath();
    // A ten-minute poll: only the wake-up on the other process's commit can end this wait in time.
    const store = openSqlite({ path, pollMs: 600_000 });
    let parked = (): void => undefined;
    const waiting = new Promise<void>((resolve) => {
      parked = resolve;
    });
    const reserving = store.queue.reserve(["jobs"], { timeoutMs: 25_000, onWait: () => parked() });
    await waiting;
    const [put] = await runChildren(["put", path, "jobs"], 1);
    const putAt = performance.now();
    const reserved = await reserving;
    expect(reserved?.id).toBe(put?.mode === "put" ? put.id : "no put");
    // Without the wake-up the reserve would take it only when its 25 s park ends.
    expect(performance.now() - putAt).toBeLessThan(5000);
    await store.close();
  });
});
