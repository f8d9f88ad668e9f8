import type { JobDocument } from "./document.ts";

// What readers (GET /info, the event stream, the CLI) show of a job's progress: `completeness`
// reads 1 once a job has finished, whatever its result, so the honest figure is kept beside it.

/** The completeness a finished job had reached; documents written before it was kept fall back to `completeness`. */
export function completenessAtEnd(d: JobDocument): number | null {
  return d.state === "finished" ? (d.completenessAtEnd ?? d.completeness) : null;
}

/** When a delayed job's next attempt is due, or null when it is not waiting on a delay. */
export function nextAttemptAt(d: JobDocument): string | null {
  return d.state === "delayed" ? (d.nextAttemptAt ?? null) : null;
}
