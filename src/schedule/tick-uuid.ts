import { createHash } from "node:crypto";

/**
 * The uuid of the job a schedule creates for one tick: the same on every server, so the
 * datastore's "uuid taken" refusal (AlreadyExistsError, atomic on every backend) lets exactly one
 * server create it. A version 8 (custom) UUID per RFC 9562: the first 48 bits are the tick's
 * milliseconds (like the v7 ids of other jobs, so ids made close in time sort close), the rest
 * come from a SHA-256 of the job type and the tick, with the version and variant bits set.
 */
export function scheduledJobUuid(jobType: string, tickMs: number): string {
  const ts = Math.max(0, Math.floor(tickMs)).toString(16).padStart(12, "0").slice(-12);
  const h = createHash("sha256").update(`zerog-schedule\0${jobType}\0${tickMs}`).digest("hex");
  const variant = ((Number.parseInt(h.charAt(3), 16) & 0x3) | 0x8).toString(16);
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-8${h.slice(0, 3)}-${variant}${h.slice(4, 7)}-${h.slice(7, 19)}`;
}
