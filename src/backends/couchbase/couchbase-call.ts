import { BackendDownError, ZeroGError } from "../../errors.ts";
import { type CallKind, type CouchbaseErrorClasses, classifyCouchbaseError } from "./couchbase-errors.ts";

/** What a call answered: its value, or one of the refusals each operation interprets. */
export type Answer<T> = { ok: true; value: T } | { ok: false; reason: "exists" | "not-found" | "cas-mismatch" };

/** How SDK calls are retried and their errors mapped; shared by the datastore and the fleet of one cluster. */
export interface CallPolicy {
  /** The SDK's error classes, for the error mapping. */
  errors: CouchbaseErrorClasses;
  /** Retries of a call that timed out (only where sending it again is safe). */
  timeoutRetries: number;
  /** Wait before the first retry; doubled for each next one. */
  retryBackoffMs: number;
}

/**
 * Runs one SDK call through the error mapping: a timeout that is safe to retry is retried up to
 * `timeoutRetries` times with a doubling back-off, then becomes BackendDownError.
 */
export async function callCouchbase<T>(
  policy: CallPolicy,
  kind: Exclude<CallKind, "connect">,
  call: () => Promise<T>,
): Promise<Answer<T>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return { ok: true, value: await call() };
    } catch (err) {
      const failure = classifyCouchbaseError(policy.errors, err, kind);
      switch (failure.kind) {
        case "exists":
        case "not-found":
        case "cas-mismatch":
          return { ok: false, reason: failure.kind };
        case "fail":
          throw failure.error;
        case "retry":
          if (attempt >= policy.timeoutRetries)
            throw new BackendDownError("couchbase", retriesExhausted(err, attempt + 1));
          await sleep(policy.retryBackoffMs * 2 ** attempt);
      }
    }
  }
}

/** A refusal the call cannot give in that situation (e.g. "exists" from a get). */
export function unexpected(call: string, reason: string): ZeroGError {
  return new ZeroGError("ZEROG_INTERNAL", `couchbase ${call} answered '${reason}', which it cannot`);
}

function retriesExhausted(err: unknown, tries: number): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`${message} (timed out ${tries} times)`, { cause: err });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
