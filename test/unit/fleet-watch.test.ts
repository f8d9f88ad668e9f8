import { describe, expect, it } from "vitest";
import { type FleetUpdate, MemoryFleetStore, type WorkerRecord } from "zerog";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { diffFleet } from "../../src/fleet/fleet-watch.ts";
import { WorkerManager } from "../../src/fleet/worker-manager.ts";

const record = (workerId: string, over: Partial<WorkerRecord> = {}): WorkerRecord => ({
  workerId,
  host: workerId.split(":")[0] ?? "",
  service: "zerog",
  pid: 1,
  state: "activeIdle",
  retiring: false,
  uuid: null,
  running: [],
  slots: 1,
  mem: { available: 1, used: 1 },
  jobsStarted: 0,
  jobsEnded: 0,
  queueName: "zerog_jobs",
  startedAt: "2026-01-01T00:00:00.000Z",
  seenAt: "2026-01-01T00:00:00.000Z",
  expiresAtMs: Date.now() + 60_000,
  ...over,
});
const job = (uuid: string) => ({ uuid, jobType: "x", startedAt: "2026-01-01T00:00:00.000Z" });

describe("fleet updates", () => {
  it("reports joins, leaves, state changes and job starts and ends between two looks", () => {
    const prev = [record("a:zerog:1", { running: [job("j1")], state: "activeRunning" }), record("b:zerog:2")];
    const next = [
      record("a:zerog:1", { running: [job("j2")], state: "drainingRunning" }),
      record("c:zerog:3", { running: [job("j3")], state: "activeRunning" }),
    ];
    const kinds = diffFleet(prev, next).map((u) => {
      if (u.kind === "joined") return `joined ${u.worker.workerId}`;
      if (u.kind === "left") return `left ${u.workerId}`;
      if (u.kind === "state") return `state ${u.worker.workerId} ${u.from}->${u.worker.state}`;
      if (u.kind === "jobStarted") return `started ${u.workerId} ${u.job.uuid}`;
      return `ended ${u.workerId} ${u.uuid}`;
    });
    expect(kinds).toEqual([
      "ended a:zerog:1 j1",
      "started a:zerog:1 j2",
      "state a:zerog:1 activeRunning->drainingRunning",
      "joined c:zerog:3",
      "started c:zerog:3 j3",
      "left b:zerog:2",
    ]);
    expect(diffFleet(next, next)).toEqual([]);
    expect(diffFleet(next, [{ ...next[0], retiring: true } as WorkerRecord, next[1] as WorkerRecord])).toHaveLength(1);
  });

  it("WorkerManager.watch follows the fleet store, a dead worker included", async () => {
    const fleet = new MemoryFleetStore();
    const manager = new WorkerManager(new SeparateBackend(new MemoryDatastore(), new MemoryQueue(), { fleet }), {
      queueName: "zerog_jobs",
    });
    const seen: FleetUpdate["kind"][] = [];
    await fleet.announce(record("a:zerog:1"));
    const watch = manager.watch((u) => seen.push(u.kind), { intervalMs: 20 });
    await expect.poll(() => seen).toEqual(["joined"]);
    await fleet.announce(record("a:zerog:1", { running: [job("j1")], state: "activeRunning" }));
    await expect.poll(() => seen).toEqual(["joined", "jobStarted", "state"]);
    await fleet.announce(record("a:zerog:1", { expiresAtMs: Date.now() + 50 }));
    await expect.poll(() => seen.at(-1)).toBe("left");
    watch.stop();
  });
});
