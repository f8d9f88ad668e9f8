import { describe, expect, it } from "vitest";
import { durationFlag } from "../../src/cli/duration.ts";
import { isZeroGError } from "../../src/errors.ts";
import { JobRegistry } from "../../src/job/registry.ts";
import { mergeRetention, RETENTION_DEFAULTS, resolveRetentionPolicy } from "../../src/job/retention-policy.ts";
import { BaseJob } from "../../src/job-api.ts";
import { resolveRetention, sweepTargets } from "../../src/server/retention.ts";

const errorOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

class Plain extends BaseJob {
  static override jobType = "plain";
  run() {}
}
class ShortLived extends BaseJob {
  static override jobType = "short_lived";
  static override retention = { finishedAfterSeconds: 60, maxFinished: 100 };
  run() {}
}
class KeptForever extends BaseJob {
  static override jobType = "kept_forever";
  static override retention = { finishedAfterSeconds: 0, failedAfterSeconds: 0 };
  run() {}
}

describe("retention policy", () => {
  it("refuses a bad policy when the class is registered, naming the class and the field", () => {
    class BadRetention extends BaseJob {
      static override jobType = "bad_retention";
      static override retention = { finishedAfterSeconds: -1, maxFinished: 2.5 };
      run() {}
    }
    const err = errorOf(() => new JobRegistry([BadRetention]));
    expect(isZeroGError(err, "ZEROG_INVALID_CONFIG")).toBe(true);
    expect(String(err)).toMatch(
      /BadRetention \(bad_retention\): static retention: finishedAfterSeconds: .*; maxFinished: /,
    );
    expect(() => resolveRetentionPolicy({ finishedAfterSecs: 1 }, "T")).toThrow(/Unrecognized key/);
    expect(() => resolveRetentionPolicy({ maxFinished: 0 }, "T")).toThrow(/maxFinished/);
    expect(new JobRegistry([ShortLived, KeptForever]).types()).toEqual(["kept_forever", "short_lived"]);
  });

  it("overrides the defaults field by field", () => {
    expect(mergeRetention(null, RETENTION_DEFAULTS)).toEqual({
      finishedAfterSeconds: 7 * 86_400,
      failedAfterSeconds: 30 * 86_400,
      maxFinished: null,
    });
    expect(mergeRetention(resolveRetentionPolicy({ failedAfterSeconds: 5 }, "T"), RETENTION_DEFAULTS)).toEqual({
      finishedAfterSeconds: 7 * 86_400,
      failedAfterSeconds: 5,
      maxFinished: null,
    });
  });

  it("gives every class its targets: its own fields over the server's defaults, 0 keeping forever", () => {
    const resolved = resolveRetention({ finishedAfterSeconds: 3600, sweepIntervalMs: 5000 });
    if (!resolved) throw new Error("retention is on");
    expect(resolved.sweeper).toEqual({ intervalMs: 5000, batchSize: 500, passBudgetMs: 5000 });
    const targets = sweepTargets(new JobRegistry([Plain, ShortLived, KeptForever]), resolved.defaults);
    const of = (jobType: string) => targets.filter((t) => t.jobType === jobType);
    const month = 30 * 86_400_000;
    expect(of("plain")).toEqual([
      { jobType: "plain", status: "finished", maxAgeMs: 3_600_000 },
      { jobType: "plain", status: "failed", maxAgeMs: month },
      { jobType: "plain", status: "killed", maxAgeMs: month },
    ]);
    expect(of("short_lived")).toEqual([
      { jobType: "short_lived", status: "finished", maxAgeMs: 60_000, keepNewest: 100 },
      { jobType: "short_lived", status: "failed", maxAgeMs: month },
      { jobType: "short_lived", status: "killed", maxAgeMs: month },
    ]);
    // Kept forever: targets with neither an age nor a count, which the Sweeper leaves out.
    expect(of("kept_forever")).toEqual(
      (["finished", "failed", "killed"] as const).map((status) => ({ jobType: "kept_forever", status })),
    );
  });

  it("checks the server's options, naming the field; false turns retention off", () => {
    expect(resolveRetention(false)).toBeNull();
    expect(resolveRetention(undefined)?.defaults).toEqual(RETENTION_DEFAULTS);
    expect(() => resolveRetention({ failedAfterSeconds: -5 })).toThrow(/retention\.failedAfterSeconds/);
    expect(() => resolveRetention({ sweepIntervalMs: 0 })).toThrow(/retention\.sweepIntervalMs/);
    expect(() => resolveRetention({ sweepBatchSize: 1.5 })).toThrow(/retention\.sweepBatchSize/);
    const bad = { finishedAfter: 1 } as unknown as Parameters<typeof resolveRetention>[0];
    expect(() => resolveRetention(bad)).toThrow(/Unrecognized key/);
  });

  it("reads durations of the CLI: seconds, or s, m, h and d; 0 and off keep forever", () => {
    const retain = (v: string) => durationFlag("retain-finished", v, { offMeansZero: true });
    expect(["90", "90s", "15m", "12h", "7d", "1.5h", "0", "off", "OFF"].map(retain)).toEqual([
      90, 90, 900, 43_200, 604_800, 5400, 0, 0, 0,
    ]);
    for (const bad of ["", "7w", "-1d", "1 d", "d", "forever"])
      expect(() => retain(bad), bad).toThrow(/--retain-finished must be seconds or a number with s, m, h or d/);
    expect(() => durationFlag("sweep-interval", "off")).toThrow(/--sweep-interval/);
  });
});
