import { describe, expect, it } from "vitest";
import { isZeroGError } from "../../src/errors.ts";
import { JobRegistry } from "../../src/job/registry.ts";
import { resolveRetryPolicy, retryDelaySeconds } from "../../src/job/retry-policy.ts";
import { BaseJob } from "../../src/job-api.ts";

const policy = (p: unknown) => resolveRetryPolicy(p, "T");

describe("retry policy", () => {
  it("doubles the wait with each error up to the maximum (exponential, the default)", () => {
    const p = policy({ delaySeconds: 2, maxDelaySeconds: 20 });
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(p, n))).toEqual([2, 4, 8, 16, 20, 20]);
    // A huge error count overflows 2^n to Infinity: the cap still holds.
    expect(retryDelaySeconds(p, 5000)).toBe(20);
  });

  it("waits the same every time when fixed", () => {
    const p = policy({ delaySeconds: 5, backoff: "fixed" });
    expect([1, 2, 10].map((n) => retryDelaySeconds(p, n))).toEqual([5, 5, 5]);
  });

  it("takes up to the jitter's fraction off at random", () => {
    const p = policy({ delaySeconds: 10, backoff: "fixed", jitter: 0.2 });
    expect(retryDelaySeconds(p, 1, () => 0)).toBe(10);
    expect(retryDelaySeconds(p, 1, () => 0.5)).toBe(9);
    expect(retryDelaySeconds(p, 1, () => 0.999_999)).toBeGreaterThan(8);
  });

  it("fills in the defaults", () => {
    expect(policy({ delaySeconds: 1 })).toEqual({
      delaySeconds: 1,
      backoff: "exponential",
      maxDelaySeconds: 3600,
      jitter: 0,
    });
  });

  it("refuses a bad policy when the class is registered, naming the class and the field", () => {
    class BadRetry extends BaseJob {
      static override jobType = "bad_retry";
      static override retry = { delaySeconds: -1, jitter: 2 };
      run() {}
    }
    let err: unknown;
    try {
      new JobRegistry([BadRetry]);
    } catch (e) {
      err = e;
    }
    expect(isZeroGError(err, "ZEROG_INVALID_CONFIG")).toBe(true);
    expect(String(err)).toMatch(/BadRetry \(bad_retry\): static retry: delaySeconds: .*; jitter: /);
    expect(() => policy({ delaySeconds: 1, backof: "fixed" })).toThrow(/Unrecognized key/);
    expect(() => policy({ delaySeconds: 1, backoff: "linear" })).toThrow(/backoff/);
  });
});
