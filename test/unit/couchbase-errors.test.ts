import * as sdk from "couchbase";
import { describe, expect, it } from "vitest";
import {
  type CallKind,
  type CouchbaseFailure,
  classifyCouchbaseError,
} from "../../src/backends/couchbase/couchbase-errors.ts";
import { isZeroGError } from "../../src/errors.ts";

// The SDK's own error classes: constructing them needs its native module, not a server.
const classify = (err: unknown, call: CallKind): CouchbaseFailure => classifyCouchbaseError(sdk, err, call);
const codeOf = (f: CouchbaseFailure): string | undefined =>
  f.kind === "fail" && isZeroGError(f.error) ? f.error.code : undefined;

describe("Couchbase error mapping", () => {
  it("hands the outcomes each operation interprets back by name", () => {
    for (const call of ["read", "write"] as const) {
      expect(classify(new sdk.DocumentExistsError(), call)).toEqual({ kind: "exists" });
      expect(classify(new sdk.DocumentNotFoundError(), call)).toEqual({ kind: "not-found" });
      expect(classify(new sdk.CasMismatchError(), call)).toEqual({ kind: "cas-mismatch" });
    }
  });

  it("retries an unambiguous timeout whatever the call, an ambiguous one only for a read", () => {
    expect(classify(new sdk.UnambiguousTimeoutError(), "read")).toEqual({ kind: "retry" });
    expect(classify(new sdk.UnambiguousTimeoutError(), "write")).toEqual({ kind: "retry" });
    for (const err of [new sdk.AmbiguousTimeoutError(), new sdk.TimeoutError(), new sdk.DurabilityAmbiguousError()]) {
      expect(classify(err, "read")).toEqual({ kind: "retry" });
      const write = classify(err, "write");
      expect(codeOf(write)).toBe("ZEROG_BACKEND_DOWN");
      expect(write.kind === "fail" && String(write.error)).toMatch(/may or may not have been applied/);
    }
  });

  it("does not retry while connecting: a timeout or an unknown failure there means the cluster is unavailable", () => {
    expect(codeOf(classify(new sdk.UnambiguousTimeoutError(), "connect"))).toBe("ZEROG_BACKEND_DOWN");
    expect(codeOf(classify(new sdk.AmbiguousTimeoutError(), "connect"))).toBe("ZEROG_BACKEND_DOWN");
    expect(codeOf(classify(new Error("socket hang up"), "connect"))).toBe("ZEROG_BACKEND_DOWN");
    expect(codeOf(classify(new sdk.InvalidArgumentError(), "connect"))).toBe("ZEROG_INVALID_CONFIG");
  });

  it("maps an unavailable service to ZEROG_BACKEND_DOWN", () => {
    const down = [
      new sdk.ServiceNotAvailableError(),
      new sdk.TemporaryFailureError(),
      new sdk.InternalServerFailureError(),
      new sdk.RequestCanceledError(),
      new sdk.ConnectionClosedError(),
      new sdk.ClusterClosedError(),
      new sdk.IndexFailureError(),
      new sdk.RateLimitedError(),
      new sdk.QuotaLimitedError(),
      new sdk.DocumentLockedError(),
      new sdk.DurabilityImpossibleError(),
      new sdk.DurableWriteInProgressError(),
      new sdk.DurableWriteReCommitInProgressError(),
    ];
    for (const err of down) {
      const f = classify(err, "write");
      expect(codeOf(f), err.name).toBe("ZEROG_BACKEND_DOWN");
      expect(f.kind === "fail" && String(f.error)).toContain("couchbase is unavailable");
    }
  });

  it("maps what the configuration must fix to ZEROG_INVALID_CONFIG, saying what to check", () => {
    const cases: [Error, RegExp][] = [
      [new sdk.AuthenticationFailureError(), /username= .* ZEROG_COUCHBASE_PASSWORD/],
      [new sdk.BucketNotFoundError(), /bucket, scope and collection/],
      [new sdk.ScopeNotFoundError(), /bucket, scope and collection/],
      [new sdk.CollectionNotFoundError(), /bucket, scope and collection/],
      [new sdk.PlanningFailureError(), /indexes\.n1ql/],
      [new sdk.IndexNotFoundError(), /indexes\.n1ql/],
      [new sdk.DurabilityLevelNotAvailableError(), /durability=/],
      [new sdk.FeatureNotAvailableError(), /durability=/],
    ];
    for (const [err, hint] of cases) {
      const f = classify(err, "read");
      expect(codeOf(f), err.name).toBe("ZEROG_INVALID_CONFIG");
      expect(f.kind === "fail" && String(f.error)).toMatch(hint);
    }
  });

  it("leaves any other error as it is", () => {
    const odd = new sdk.ValueTooLargeError();
    expect(classify(odd, "write")).toEqual({ kind: "fail", error: odd });
    const plain = new TypeError("bug");
    expect(classify(plain, "read")).toEqual({ kind: "fail", error: plain });
  });
});
