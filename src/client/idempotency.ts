import { createHash } from "node:crypto";
import type { Datastore } from "../contracts/datastore.ts";
import { InvalidConfigError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";

/** How long an idempotency key answers its job's uuid: a day, as Stripe and most APIs keep them. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

/** Longest idempotency key a client may send (the API answers 400 beyond it). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * A key as the datastore stores it: the job type and the client's key hashed together, so keys
 * are scoped per job type, of fixed length (Couchbase document ids stop at 250 bytes), and made
 * of characters every backend takes in a key or a column.
 */
export function scopedIdempotencyKey(jobType: string, key: string): string {
  return createHash("sha256")
    .update(JSON.stringify([jobType, key]))
    .digest("base64url");
}

/**
 * Idempotent creation (POST /job with an Idempotency-Key): the key is claimed in the datastore
 * with the new job's uuid before the job is created, so of any number of concurrent requests,
 * on any number of servers sharing the backend, one creates the job and the others answer its
 * uuid. A create that fails releases the claim, so a retry of the request may create the job.
 */
export class Idempotency {
  readonly #datastore: Datastore;
  readonly #clock: Clock;
  readonly #windowMs: number;

  constructor(datastore: Datastore, clock: Clock, windowSeconds: number) {
    this.#datastore = datastore;
    this.#clock = clock;
    if (!(Number.isFinite(windowSeconds) && windowSeconds > 0))
      throw new InvalidConfigError(`idempotencyWindowSeconds must be a positive number, got ${windowSeconds}`);
    this.#windowMs = windowSeconds * 1000;
  }

  /**
   * Claims `key` for `uuid` and runs `create` when the claim is this call's; resolves with the uuid
   * the key stands for (`uuid`, or the first job's on a repeat).
   */
  async run(jobType: string, key: string, uuid: string, create: () => Promise<unknown>): Promise<string> {
    const scoped = scopedIdempotencyKey(jobType, key);
    const nowMs = this.#clock.now();
    const held = await this.#datastore.claimIdempotencyKey({
      key: scoped,
      uuid,
      nowMs,
      expiresAtMs: nowMs + this.#windowMs,
    });
    if (held !== uuid) return held;
    try {
      await create();
    } catch (err) {
      await this.#datastore.releaseIdempotencyKey(scoped, uuid).catch(() => undefined);
      throw err;
    }
    return uuid;
  }
}
