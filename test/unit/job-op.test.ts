import { describe, expect, it } from "vitest";
import { applyOp, isJobCodeOp, type JobOp } from "../../src/job/job-op.ts";
import * as t from "../../src/job/transitions.ts";
import { makeDocument } from "../helpers/documents.ts";

const at = "2026-01-01T00:00:00.000Z";

describe("applyOp", () => {
  it("applies the same ops to the same document the same way (a CAS retry records no entry twice)", () => {
    const ops: JobOp[] = [
      t.addEvent("hi", at),
      t.addError(42, "bad", at),
      t.addToCompleteness(0.3, 3),
      t.setData({ n: 1 }),
    ];
    const a = makeDocument();
    const b = structuredClone(a);
    for (const op of ops) applyOp(a, op);
    for (const op of structuredClone(ops)) applyOp(b, op);
    expect(a).toEqual(b);
    expect(a.events.at(-1)).toEqual({ timeStamp: at, msg: "hi" });
    expect(a.errorCount).toBe(1);
    expect(a.completeness).toBeCloseTo(0.3);
    expect(a.tickcount).toBe(3);
  });

  it("clamps completeness, also for an op that arrives unclamped from a job process", () => {
    const doc = makeDocument();
    applyOp(doc, { op: "setCompleteness", x: 7 });
    expect(doc.completeness).toBe(1);
    applyOp(doc, t.addToCompleteness(-3));
    expect(doc.completeness).toBe(0);
  });

  it("finishes a killed job with error and result 410, keeping the completeness it reached", () => {
    const doc = makeDocument({ running: true, state: "running", completeness: 0.36 });
    applyOp(doc, t.requestKill());
    applyOp(doc, t.killedByUser(at));
    expect(doc).toMatchObject({ killRequested: true, running: false, state: "finished", resultCode: 410 });
    expect(doc).toMatchObject({ completeness: 1, completenessAtEnd: 0.36, finishedAt: at });
    expect(doc.errors.at(-1)).toEqual({ timeStamp: at, msg: "Killed by user", errorCode: 410 });
  });

  it("retries a failed job: a new attempt, queued with no result, its logs and data kept", () => {
    const doc = makeDocument({ attempt: 3, errorCount: 3, data: { part: 1 }, workerId: "w1" });
    applyOp(doc, t.addError(500, "broke", at));
    applyOp(doc, t.setCompleteness(0.4));
    applyOp(doc, t.finish(500, at));
    applyOp(doc, t.requestKill());
    const later = "2026-01-02T00:00:00.000Z";
    applyOp(doc, t.retryByUser(later));
    expect(doc).toMatchObject({ attempt: 4, errorCount: 0, state: "queued", running: false, resultCode: -1 });
    expect(doc).toMatchObject({ killRequested: false, finishedAt: null, completeness: 0, nextAttemptAt: null });
    expect(doc).not.toHaveProperty("completenessAtEnd");
    expect(doc).toMatchObject({ data: { part: 1 }, workerId: "w1" });
    expect(doc.errors).toEqual([{ timeStamp: at, msg: "broke", errorCode: 500 }]);
    expect(doc.events.at(-1)).toEqual({ timeStamp: later, msg: "Retried by user" });
  });

  it("requeues as delayed with the next attempt's time, or queued without a delay", () => {
    const doc = makeDocument({ running: true, state: "running" });
    applyOp(doc, t.requeue(30, at));
    expect(doc).toMatchObject({ running: false, state: "delayed", nextAttemptAt: "2026-01-01T00:00:30.000Z" });
    applyOp(doc, t.startRun(2, "w1", at));
    expect(doc).toMatchObject({ running: true, state: "running", attempt: 2, workerId: "w1", startedAt: at });
    applyOp(doc, t.requeue(0, at));
    expect(doc).toMatchObject({ state: "queued", nextAttemptAt: null });
  });
});

describe("isJobCodeOp", () => {
  it("accepts every op job code makes", () => {
    for (const op of [t.addEvent("m", at), t.addWarning("m", at), t.addError(1, "m", at), t.setCompleteness(0.5)])
      expect(isJobCodeOp(op)).toBe(true);
    for (const op of [t.addToCompleteness(0.1, 1), t.setTickValue(0.01), t.setData(null)])
      expect(isJobCodeOp(op)).toBe(true);
  });

  it("refuses a run's start or end, kills, a user's retry, and malformed ops", () => {
    for (const op of [t.finish(200, at), t.startRun(9, "w", at), t.requeue(0, at), t.requestKill(), t.killedByUser(at)])
      expect(isJobCodeOp(op)).toBe(false);
    expect(isJobCodeOp(t.retryByUser(at))).toBe(false);
    const malformed = [
      null,
      5,
      "addEvent",
      {},
      { op: "addEvent", msg: 5, at },
      { op: "setCompleteness", x: Number.NaN },
    ];
    for (const op of [...malformed, { op: "addError", msg: "m", at }, { op: "setData" }])
      expect(isJobCodeOp(op)).toBe(false);
  });
});
