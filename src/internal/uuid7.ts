import { randomUUID } from "node:crypto";

/** The last millisecond an id was made for, and the counter within it (RFC 9562 §6.2, method 1). */
let lastMs = -1;
let seq = 0;

/**
 * A version 7 UUID (RFC 9562): 48 bits of milliseconds, a 12-bit counter, then 62 random bits.
 * Ids made close in time sort close together, so a B-tree keyed by them (SQLite's job table)
 * appends to a few hot pages instead of touching a random page per job. The counter starts at a
 * random value below 2048 in each millisecond and counts up, so ids this process makes within one
 * millisecond also sort in the order they were made (listings by (createdAt, uuid) show creation
 * order); past 4095 it stays, and the random tail alone keeps ids apart.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const ms = Math.max(0, Math.floor(nowMs));
  if (ms !== lastMs) {
    lastMs = ms;
    seq = Math.floor(Math.random() * 0x800);
  } else if (seq < 0xfff) seq++;
  const ts = ms.toString(16).padStart(12, "0").slice(-12);
  // randomUUID() draws from a cached entropy pool; its last 17 characters carry the variant and 62 random bits.
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${seq.toString(16).padStart(3, "0")}-${randomUUID().slice(19)}`;
}

const TIMED_UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-[78][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The milliseconds a version 7 uuid (`uuidv7`) or a version 8 one of the same layout (a scheduled
 * job's tick uuid) starts with: when it was made. null for any other string.
 */
export function uuidTimeMs(uuid: string): number | null {
  const m = TIMED_UUID.exec(uuid);
  return m ? Number.parseInt(`${m[1]}${m[2]}`, 16) : null;
}
