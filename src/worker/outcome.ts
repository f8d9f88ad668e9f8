import { NO_RESULT, SUCCESS } from "../job/document.ts";

/** What `run()`'s return value asks for (rows 3 and 4 of the outcome table in docs/job-states.md). */
export type ReturnOutcome = { kind: "finish"; resultCode: number } | { kind: "requeue"; delaySeconds: number };

/**
 * A number or numeric string → that result code; `[code, delaySeconds]` likewise; anything
 * else or nothing → 200. `NO_RESULT` (-1) → requeue after the given delay or the default.
 */
export function outcomeOf(ret: unknown, defaultRequeueDelaySeconds: number): ReturnOutcome {
  const [code, delay] = Array.isArray(ret) ? [ret[0], ret[1]] : [ret, undefined];
  const n = toCode(code);
  if (n === null) return { kind: "finish", resultCode: SUCCESS };
  if (n === NO_RESULT) {
    const d = delay === null || delay === undefined || delay === "" ? Number.NaN : Number(delay);
    return { kind: "requeue", delaySeconds: Number.isFinite(d) && d >= 0 ? d : defaultRequeueDelaySeconds };
  }
  return { kind: "finish", resultCode: n };
}

function toCode(v: unknown): number | null {
  if (typeof v === "number") return Number.isInteger(v) ? v : null;
  if (typeof v === "string" && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return null;
}
