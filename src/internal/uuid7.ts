import { randomUUID } from "node:crypto";

/**
 * A version 7 UUID (RFC 9562): 48 bits of milliseconds, then 74 random bits. Ids made close in
 * time sort close together, so a B-tree keyed by them (SQLite's job table) appends to a few hot
 * pages instead of touching a random page per job — far fewer pages written per commit.
 * Built on randomUUID(), which draws from a cached entropy pool, for its random bits and variant.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const ts = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, "0").slice(-12);
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
