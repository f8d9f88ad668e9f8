import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ControlMessage, FleetStore, WorkerRecord } from "../../src/contracts/fleet.ts";

/** A fleet as a test opens it: the store, what closes it, and how to open it again elsewhere. */
export interface OpenedFleet {
  fleet: FleetStore;
  close(): Promise<void>;
  /** A second backend opened separately on the same store (another process's view of it). */
  openPeer?: () => Promise<OpenedFleet>;
}

export interface FleetSuiteOptions {
  name: string;
  /** A fresh, empty fleet for one test. */
  create: () => Promise<OpenedFleet> | OpenedFleet;
  /** Why two backends cannot share this fleet, where they cannot; the sharing test is then left out. */
  notShared?: string;
}

/** Any time will do: the stores compare only the times they are given. */
const NOW = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

/** A live worker's record, as a worker announces it. */
function record(workerId: string, fields: Partial<WorkerRecord> = {}): WorkerRecord {
  return {
    workerId,
    host: "host-a",
    service: "zerog",
    pid: 4242,
    state: "activeIdle",
    retiring: false,
    uuid: null,
    running: [],
    slots: 2,
    mem: { available: 8_000_000_000, used: 120_000_000 },
    jobsStarted: 0,
    jobsEnded: 0,
    queueName: "default",
    startedAt: "2029-12-31T23:00:00.000Z",
    seenAt: "2029-12-31T23:59:59.000Z",
    expiresAtMs: NOW + 3000,
    ...fields,
  };
}

const ids = (records: WorkerRecord[]) => records.map((r) => r.workerId);

/** The fleet contract (src/contracts/fleet.ts): every datastore's fleet runs this against its real service. */
export function describeFleet(opts: FleetSuiteOptions): void {
  describe(`fleet contract: ${opts.name}`, () => {
    let opened: OpenedFleet;
    let fleet: FleetStore;
    const peers: OpenedFleet[] = [];
    beforeEach(async () => {
      opened = await opts.create();
      fleet = opened.fleet;
    });
    afterEach(async () => {
      for (const p of peers.splice(0)) await p.close();
      await opened.close();
    });

    it("lists live workers sorted by id, leaving out expired ones", async () => {
      await fleet.announce(record("w-c"));
      await fleet.announce(record("w-a"));
      await fleet.announce(record("w-b", { expiresAtMs: NOW - 1 }));
      await fleet.announce(record("w-d", { expiresAtMs: NOW }));
      expect(ids(await fleet.listWorkers(NOW))).toEqual(["w-a", "w-c"]);
      expect(ids(await fleet.listWorkers(NOW - 10))).toEqual(["w-a", "w-b", "w-c", "w-d"]);
      expect(await fleet.listWorkers(NOW + 3000)).toEqual([]);
    });

    it("takes times in fractions of a millisecond", async () => {
      await fleet.announce(record("w1", { expiresAtMs: NOW + 0.5 }));
      expect(ids(await fleet.listWorkers(NOW))).toEqual(["w1"]);
      expect(await fleet.listWorkers(NOW + 1)).toEqual([]);
      expect(ids(await fleet.listWorkers(NOW - 0.5))).toEqual(["w1"]);
      expect((await fleet.getWorker("w1"))?.expiresAtMs).toBe(NOW + 0.5);
    });

    it("replaces a worker's record when it announces again", async () => {
      await fleet.announce(record("w1", { expiresAtMs: NOW - 1 }));
      await fleet.announce(record("w1", { state: "activeRunning", jobsStarted: 1, expiresAtMs: NOW + 5000 }));
      const listed = await fleet.listWorkers(NOW);
      expect(listed).toHaveLength(1);
      expect(listed[0]?.state).toBe("activeRunning");
      expect(listed[0]?.jobsStarted).toBe(1);
      expect((await fleet.getWorker("w1"))?.expiresAtMs).toBe(NOW + 5000);
    });

    it("reads one record, expired or not, and null for an unknown worker", async () => {
      await fleet.announce(record("w1", { expiresAtMs: NOW - 5000 }));
      expect((await fleet.getWorker("w1"))?.workerId).toBe("w1");
      expect(await fleet.getWorker("nobody")).toBeNull();
    });

    it("deletes records (and inboxes) that expired more than a minute before, keeps younger dead ones", async () => {
      await fleet.announce(record("old", { expiresAtMs: NOW - MINUTE - 1 }));
      await fleet.announce(record("edge", { expiresAtMs: NOW - MINUTE }));
      await fleet.announce(record("recent", { expiresAtMs: NOW - 1000 }));
      await fleet.sendControl("old", { kind: "drain" });
      await fleet.sendControl("recent", { kind: "drain" });
      expect(await fleet.listWorkers(NOW)).toEqual([]);
      expect(await fleet.getWorker("old")).toBeNull();
      expect(await fleet.takeControl("old")).toEqual([]);
      expect((await fleet.getWorker("edge"))?.workerId).toBe("edge");
      expect((await fleet.getWorker("recent"))?.workerId).toBe("recent");
      expect(await fleet.takeControl("recent")).toEqual([{ kind: "drain" }]);
    });

    it("removes a worker with its inbox, and says whether there was one", async () => {
      await fleet.announce(record("w1"));
      await fleet.sendControl("w1", { kind: "retire" });
      expect(await fleet.removeWorker("w1")).toBe(true);
      expect(await fleet.getWorker("w1")).toBeNull();
      expect(await fleet.listWorkers(NOW)).toEqual([]);
      expect(await fleet.takeControl("w1")).toEqual([]);
      expect(await fleet.removeWorker("w1")).toBe(false);
    });

    it("hands out control messages oldest first, and each once", async () => {
      const sent: ControlMessage[] = [
        { kind: "drain" },
        { kind: "killJob", uuid: "0190a8c4-0000-7000-8000-000000000001" },
        { kind: "undrain" },
        { kind: "requestInfo" },
        { kind: "retire" },
      ];
      for (const msg of sent) await fleet.sendControl("w1", msg);
      expect(await fleet.takeControl("w1")).toEqual(sent);
      expect(await fleet.takeControl("w1")).toEqual([]);
      await fleet.sendControl("w1", { kind: "drain" });
      expect(await fleet.takeControl("w1")).toEqual([{ kind: "drain" }]);
    });

    it("gives each message to one of two concurrent takers", async () => {
      const uuids = Array.from({ length: 50 }, (_, i) => `job-${String(i).padStart(2, "0")}`);
      for (const uuid of uuids) await fleet.sendControl("w1", { kind: "killJob", uuid });
      const [a, b] = await Promise.all([fleet.takeControl("w1"), fleet.takeControl("w1")]);
      const got = [...(a ?? []), ...(b ?? [])].map((m) => (m.kind === "killJob" ? m.uuid : m.kind));
      expect(got.sort()).toEqual(uuids);
      // Each taker's share keeps send order.
      for (const share of [a, b]) {
        const taken = (share ?? []).map((m) => (m.kind === "killJob" ? m.uuid : m.kind));
        expect(taken).toEqual([...taken].sort());
      }
    });

    it("keeps each worker's inbox apart", async () => {
      await fleet.sendControl("w1", { kind: "drain" });
      await fleet.sendControl("w2", { kind: "retire" });
      await fleet.sendControl("w1", { kind: "undrain" });
      expect(await fleet.takeControl("w2")).toEqual([{ kind: "retire" }]);
      expect(await fleet.takeControl("w1")).toEqual([{ kind: "drain" }, { kind: "undrain" }]);
    });

    it("keeps messages for a worker it does not know until they are taken", async () => {
      await fleet.sendControl("not-yet", { kind: "requestInfo" });
      expect(await fleet.listWorkers(NOW)).toEqual([]);
      await fleet.announce(record("not-yet"));
      expect(await fleet.takeControl("not-yet")).toEqual([{ kind: "requestInfo" }]);
      expect(await fleet.takeControl("not-yet")).toEqual([]);
    });

    it("gives records back field by field, nested objects and arrays included", async () => {
      const full = record("host-b:zerog:77", {
        host: "host-b",
        pid: 77,
        state: "drainingRunning",
        retiring: true,
        uuid: "0190a8c4-0000-7000-8000-00000000000a",
        running: [
          { uuid: "0190a8c4-0000-7000-8000-00000000000a", jobType: "resize", startedAt: "2029-12-31T23:59:00.000Z" },
          { uuid: "0190a8c4-0000-7000-8000-00000000000b", jobType: "mail", startedAt: "2029-12-31T23:59:30.500Z" },
        ],
        slots: 4,
        // Above 2^32: byte counts must not be cut to 32-bit integers.
        mem: { available: 68_719_476_736, used: 5_368_709_120 },
        jobsStarted: 12,
        jobsEnded: 10,
        queueName: "images",
      });
      await fleet.announce(full);
      expect(await fleet.getWorker(full.workerId)).toEqual(full);
      expect(await fleet.listWorkers(NOW)).toEqual([full]);
    });

    it("pauses and resumes job types, idempotently, and lists the paused ones sorted", async () => {
      expect(await fleet.pausedTypes()).toEqual([]);
      await fleet.setPaused("resize", true);
      await fleet.setPaused("mail.send", true);
      await fleet.setPaused("resize", true);
      await fleet.setPaused("a-report_1", true);
      expect(await fleet.pausedTypes()).toEqual(["a-report_1", "mail.send", "resize"]);
      await fleet.setPaused("mail.send", false);
      await fleet.setPaused("mail.send", false);
      await fleet.setPaused("never-paused", false);
      expect(await fleet.pausedTypes()).toEqual(["a-report_1", "resize"]);
      // The fleet's other data is apart from it.
      await fleet.announce(record("w1"));
      expect(ids(await fleet.listWorkers(NOW))).toEqual(["w1"]);
      expect(await fleet.removeWorker("w1")).toBe(true);
      expect(await fleet.pausedTypes()).toEqual(["a-report_1", "resize"]);
    });

    it("keeps every one of many pauses and resumes sent at once", async () => {
      const types = Array.from({ length: 12 }, (_, i) => `type_${String(i).padStart(2, "0")}`);
      await Promise.all(types.map((t) => fleet.setPaused(t, true)));
      expect(await fleet.pausedTypes()).toEqual(types);
      const odd = types.filter((_, i) => i % 2 === 1);
      await Promise.all(odd.map((t) => fleet.setPaused(t, false)));
      expect(await fleet.pausedTypes()).toEqual(types.filter((_, i) => i % 2 === 0));
    });

    // Registered only where it applies: a fleet that lives in one process has nothing to share.
    if (opts.notShared === undefined)
      it("is shared by two backends opened separately on the same store", async () => {
        if (!opened.openPeer) throw new Error("create must give openPeer for a shared fleet");
        const peer = await opened.openPeer();
        peers.push(peer);
        await fleet.announce(record("w1"));
        expect(ids(await peer.fleet.listWorkers(NOW))).toEqual(["w1"]);
        await peer.fleet.sendControl("w1", { kind: "drain" });
        expect(await fleet.takeControl("w1")).toEqual([{ kind: "drain" }]);
        await peer.fleet.announce(record("w1", { state: "drainingIdle" }));
        expect((await fleet.getWorker("w1"))?.state).toBe("drainingIdle");
        expect(await peer.fleet.removeWorker("w1")).toBe(true);
        expect(await fleet.getWorker("w1")).toBeNull();
        await peer.fleet.setPaused("resize", true);
        expect(await fleet.pausedTypes()).toEqual(["resize"]);
        await fleet.setPaused("resize", false);
        expect(await peer.fleet.pausedTypes()).toEqual([]);
      });
  });
}
