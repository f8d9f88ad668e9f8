import { type BatchOutcome, outcomeOf } from "../../internal/tick-batcher.ts";

/** SQLSTATE deadlock_detected: two batches locked the same rows in opposite orders. */
const DEADLOCK = "40P01";
/** SQLSTATE unique_violation. */
export const UNIQUE_VIOLATION = "23505";

export interface BatchStatements<I, O> {
  /** The one-item statement: the reference behaviour, and the fallback. */
  single(item: I): Promise<O>;
  /** The batched statement; one outcome per item, in order. */
  many(items: I[]): Promise<BatchOutcome<O>[]>;
  /** SQLSTATEs after which the batch is retried item by item (the batch as a whole changed nothing). */
  retryAloneOn?: readonly string[];
}

/**
 * Runs a TickBatcher's batch: one item through the single statement, several through the
 * batched one; when the batch fails as a whole for a reason that belongs to one item (a taken
 * uuid) or to timing (a deadlock), each item runs alone so it gets its own answer.
 */
export async function runBatch<I, O>(items: I[], s: BatchStatements<I, O>): Promise<BatchOutcome<O>[]> {
  const [first] = items;
  if (items.length === 1 && first !== undefined) return [await outcomeOf(() => s.single(first))];
  try {
    return await s.many(items);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const alone = [DEADLOCK, ...(s.retryAloneOn ?? [])];
    if (typeof code !== "string" || !alone.includes(code)) throw err;
    return Promise.all(items.map((i) => outcomeOf(() => s.single(i))));
  }
}

/** A JSON array of elements already serialised (documents are stringified once, not twice). */
export function jsonArray(elements: string[]): string {
  return `[${elements.join(",")}]`;
}

/** One batch element: `fields` plus the document under "doc" (appended, so it is stringified once). */
export function elementWithDoc(fields: Record<string, string | number>, doc: object): string {
  return `${JSON.stringify(fields).slice(0, -1)},"doc":${JSON.stringify(doc)}}`;
}
