import type { JobDocument, JobState } from "../../job/document.ts";
import { completenessAtEnd, nextAttemptAt } from "../../job/job-progress.ts";

/** One Server-Sent Event: its name, its JSON data and its id. */
export interface SseMessage {
  event: "progress" | "event" | "warning" | "job-error" | "result" | "gone";
  data: unknown;
  /** Resume point: `events.warnings.errors` sent so far (see `parseLastEventId`). */
  id: string;
}

/** What a stream has sent so far: the last completeness and state, and how many entries of each log. */
export interface StreamCursor {
  completeness: number | null;
  state: JobState | null;
  events: number;
  warnings: number;
  errors: number;
  done: boolean;
}

const EVENT_OF = { events: "event", warnings: "warning", errors: "job-error" } as const;

/** A cursor before anything was sent, or at a client's `Last-Event-ID` to resume from. */
export function startCursor(lastEventId?: string): StreamCursor {
  const [e, w, x] = parseLastEventId(lastEventId) ?? [0, 0, 0];
  return { completeness: null, state: null, events: e, warnings: w, errors: x, done: false };
}

/** `"3.0.1"` → [3, 0, 1]; null for anything else (the stream then starts from the beginning). */
export function parseLastEventId(id: string | undefined): [number, number, number] | null {
  const m = /^(\d{1,9})\.(\d{1,9})\.(\d{1,9})$/.exec(id?.trim() ?? "");
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/**
 * What changed between what `cursor` has sent and `doc`, as messages in order: new log entries
 * (by index: a log only grows), then progress if completeness moved, then the result once the
 * job has finished. Advances `cursor`. `doc` null (the job was deleted) ends the stream too.
 */
export function diffDocument(cursor: StreamCursor, doc: JobDocument | null): SseMessage[] {
  if (cursor.done) return [];
  const out: SseMessage[] = [];
  const id = (): string => `${cursor.events}.${cursor.warnings}.${cursor.errors}`;
  if (!doc) {
    cursor.done = true;
    return [{ event: "gone", data: { message: "the job's document was deleted" }, id: id() }];
  }
  // New entries of the three logs, merged in time order (each log only grows: new = past the count sent).
  const fresh = [
    ...doc.events.slice(cursor.events).map((entry, k) => ({ kind: "events" as const, i: cursor.events + k, entry })),
    ...doc.warnings
      .slice(cursor.warnings)
      .map((entry, k) => ({ kind: "warnings" as const, i: cursor.warnings + k, entry })),
    ...doc.errors.slice(cursor.errors).map((entry, k) => ({ kind: "errors" as const, i: cursor.errors + k, entry })),
  ].sort((a, b) => (a.entry.timeStamp < b.entry.timeStamp ? -1 : a.entry.timeStamp > b.entry.timeStamp ? 1 : 0));
  for (const f of fresh) {
    cursor[f.kind] = f.i + 1;
    out.push({ event: EVENT_OF[f.kind], data: { index: f.i, ...f.entry }, id: id() });
  }
  // A state change alone (a failed run now waiting for its retry) is news too: it carries the next attempt's time.
  if (doc.completeness !== cursor.completeness || doc.state !== cursor.state) {
    cursor.completeness = doc.completeness;
    cursor.state = doc.state;
    out.push({ event: "progress", data: progressData(doc), id: id() });
  }
  if (doc.state === "finished") {
    cursor.done = true;
    out.push({
      event: "result",
      data: {
        result: doc.resultCode,
        completeness: doc.completeness,
        completenessAtEnd: completenessAtEnd(doc),
        errorCount: doc.errorCount,
      },
      id: id(),
    });
  }
  return out;
}

function progressData(doc: JobDocument): Record<string, unknown> {
  const data: Record<string, unknown> = { completeness: doc.completeness, state: doc.state };
  if (doc.state === "delayed") data.nextAttemptAt = nextAttemptAt(doc);
  if (doc.state === "finished") data.completenessAtEnd = completenessAtEnd(doc);
  return data;
}

/** The wire form of one message. */
export function formatSse(m: SseMessage): string {
  return `id: ${m.id}\nevent: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`;
}
