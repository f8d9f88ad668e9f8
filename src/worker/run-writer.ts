import type { Datastore } from "../contracts/datastore.ts";
import { isZeroGError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import { DocumentWriter } from "../job/document-writer.ts";
import type { RunRequest } from "./runner.ts";

/** What both runners need to write a run's changes to its document. */
export interface RunWriterOptions {
  datastore: Datastore;
  clock: Clock;
  progressFlushMs: number;
  onFlushError?: (err: unknown) => void;
}

/** The writer a run's changes go through: coalesced, CAS, and fenced off onto the run's signal. */
export function runWriter(o: RunWriterOptions, req: RunRequest): DocumentWriter {
  return new DocumentWriter(o.datastore, req.doc, req.cas, {
    attempt: req.attempt,
    clock: o.clock,
    flushIntervalMs: o.progressFlushMs,
    onFenced: (err) => req.abort.abort(err),
    ...(o.onFlushError ? { onFlushError: o.onFlushError } : {}),
  });
}

/**
 * Writes what the run left unsaved once it ends. Backend trouble is left to the outcome write,
 * which sends the whole document again; fencing shows in `writer.fenced`.
 */
export async function flushRun(writer: DocumentWriter, o: RunWriterOptions): Promise<void> {
  try {
    await writer.flush();
  } catch (err) {
    if (!isZeroGError(err, "ZEROG_FENCED")) o.onFlushError?.(err);
  }
}
