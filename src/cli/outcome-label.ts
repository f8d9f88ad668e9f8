import { KILLED_BY_USER } from "../job/document.ts";

/**
 * How the CLI shows a job's progress: the bar's fill and a label. A finished job's `completeness`
 * reads 1 whatever its result, so a failed or killed one is shown at the completeness it had
 * reached (`completenessAtEnd`), never as a full bar.
 */
export interface ProgressLabel {
  /** 0..1: how much of the bar to fill. */
  fill: number;
  text: string;
  tone: "running" | "success" | "failed" | "killed";
}

export interface ProgressFacts {
  completeness: number;
  /** -1 until the job has finished. */
  resultCode: number;
  completenessAtEnd?: number | null;
  nextAttemptAt?: string | null;
}

const percent = (x: number): string => `${Math.round(x * 100)}%`;

export function progressLabel(f: ProgressFacts, nowMs = Date.now()): ProgressLabel {
  if (f.resultCode === -1) {
    const wait = f.nextAttemptAt ? `, next attempt ${nextAttemptText(f.nextAttemptAt, nowMs)}` : "";
    return { fill: f.completeness, text: `${percent(f.completeness)}${wait}`, tone: "running" };
  }
  if (f.resultCode >= 200 && f.resultCode < 300) return { fill: 1, text: "100%", tone: "success" };
  const reached = f.completenessAtEnd ?? f.completeness;
  const tone = f.resultCode === KILLED_BY_USER ? "killed" : "failed";
  return { fill: reached, text: `${tone} at ${percent(reached)}`, tone };
}

/** `2026-12-03T10:00:30.000Z (in 25 s)`: the time, and how far off it is. */
export function nextAttemptText(iso: string, nowMs = Date.now()): string {
  const s = Math.round((Date.parse(iso) - nowMs) / 1000);
  return `at ${iso} (${s > 0 ? `in ${s} s` : "due now"})`;
}
