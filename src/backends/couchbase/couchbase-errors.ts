import type * as Couchbase from "couchbase";
import { BackendDownError, InvalidConfigError } from "../../errors.ts";

/** The SDK's error classes, from the module `import("couchbase")` loaded (never imported statically). */
export type CouchbaseErrorClasses = Pick<
  typeof Couchbase,
  | "AmbiguousTimeoutError"
  | "AuthenticationFailureError"
  | "BucketNotFoundError"
  | "CasMismatchError"
  | "ClusterClosedError"
  | "CollectionNotFoundError"
  | "ConnectionClosedError"
  | "DocumentExistsError"
  | "DocumentLockedError"
  | "DocumentNotFoundError"
  | "DurabilityAmbiguousError"
  | "DurabilityImpossibleError"
  | "DurabilityLevelNotAvailableError"
  | "DurableWriteInProgressError"
  | "DurableWriteReCommitInProgressError"
  | "FeatureNotAvailableError"
  | "IndexFailureError"
  | "IndexNotFoundError"
  | "InternalServerFailureError"
  | "InvalidArgumentError"
  | "PlanningFailureError"
  | "QuotaLimitedError"
  | "RateLimitedError"
  | "RequestCanceledError"
  | "ScopeNotFoundError"
  | "ServiceNotAvailableError"
  | "TemporaryFailureError"
  | "TimeoutError"
  | "UnambiguousTimeoutError"
>;

/**
 * What was being done when the SDK failed: a read may be sent again after any timeout; a write
 * only after an unambiguous one (after an ambiguous one it may have happened: an insert sent again
 * would find its own document, a CAS replace its own new CAS); connecting is not retried here
 * (the SDK already waited its bootstrap timeout).
 */
export type CallKind = "read" | "write" | "connect";

/** What an SDK error means to the datastore; each operation decides what the first three mean to it. */
export type CouchbaseFailure =
  | { kind: "exists" }
  | { kind: "not-found" }
  | { kind: "cas-mismatch" }
  /** A timeout after which sending the same call again is safe. */
  | { kind: "retry" }
  /** Throw this. */
  | { kind: "fail"; error: unknown };

const INDEX_HINT =
  "the job listing needs the indexes of src/backends/couchbase/indexes.n1ql: create them, or open once with createIndexes=true";
const KEYSPACE_HINT = "check the bucket, scope and collection in the couchbase URL";
const AUTH_HINT = "check username= in the couchbase URL and ZEROG_COUCHBASE_PASSWORD";

/**
 * The one mapping from Couchbase SDK errors to ZeroG's, tested with the SDK's own classes
 * (test/unit/couchbase-errors.test.ts). Subclasses come before their base class (the two timeout
 * kinds before TimeoutError). Errors not listed are thrown as they are.
 */
export function classifyCouchbaseError(sdk: CouchbaseErrorClasses, err: unknown, call: CallKind): CouchbaseFailure {
  const down = (): CouchbaseFailure => ({ kind: "fail", error: new BackendDownError("couchbase", err) });
  const config = (hint: string): CouchbaseFailure => ({
    kind: "fail",
    error: new InvalidConfigError(`couchbase: ${hint} (${messageOf(err)})`),
  });
  // The outcome of a write that timed out is unknown: say so rather than guess.
  const ambiguous = (): CouchbaseFailure =>
    call === "read"
      ? { kind: "retry" }
      : {
          kind: "fail",
          error: new BackendDownError(
            "couchbase",
            new Error(`${messageOf(err)}; the ${call} may or may not have been applied`, { cause: err }),
          ),
        };

  if (err instanceof sdk.DocumentExistsError) return { kind: "exists" };
  if (err instanceof sdk.DocumentNotFoundError) return { kind: "not-found" };
  if (err instanceof sdk.CasMismatchError) return { kind: "cas-mismatch" };

  if (err instanceof sdk.UnambiguousTimeoutError) return call === "connect" ? down() : { kind: "retry" };
  if (err instanceof sdk.AmbiguousTimeoutError || err instanceof sdk.TimeoutError)
    return call === "connect" ? down() : ambiguous();
  if (err instanceof sdk.DurabilityAmbiguousError) return ambiguous();

  if (err instanceof sdk.AuthenticationFailureError) return config(AUTH_HINT);
  if (
    err instanceof sdk.BucketNotFoundError ||
    err instanceof sdk.ScopeNotFoundError ||
    err instanceof sdk.CollectionNotFoundError
  )
    return config(KEYSPACE_HINT);
  if (err instanceof sdk.PlanningFailureError || err instanceof sdk.IndexNotFoundError) return config(INDEX_HINT);
  if (err instanceof sdk.DurabilityLevelNotAvailableError || err instanceof sdk.FeatureNotAvailableError)
    return config("the cluster does not support what the URL asks for (durability=)");
  if (call === "connect" && err instanceof sdk.InvalidArgumentError) return config("the connection string is invalid");

  if (
    err instanceof sdk.ServiceNotAvailableError ||
    err instanceof sdk.TemporaryFailureError ||
    err instanceof sdk.InternalServerFailureError ||
    err instanceof sdk.RequestCanceledError ||
    err instanceof sdk.ConnectionClosedError ||
    err instanceof sdk.ClusterClosedError ||
    err instanceof sdk.IndexFailureError ||
    err instanceof sdk.RateLimitedError ||
    err instanceof sdk.QuotaLimitedError ||
    err instanceof sdk.DocumentLockedError ||
    err instanceof sdk.DurabilityImpossibleError ||
    err instanceof sdk.DurableWriteInProgressError ||
    err instanceof sdk.DurableWriteReCommitInProgressError
  )
    return down();
  // Whatever stops a connection from being made means the service is unavailable.
  if (call === "connect") return down();
  return { kind: "fail", error: err };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
