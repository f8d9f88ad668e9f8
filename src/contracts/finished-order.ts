import type { DeleteFinishedQuery } from "./datastore.ts";

/** A finished document's place in retention order: oldest `finishedAt` first, then smaller `uuid`. */
export interface FinishedPosition {
  finishedAt: string;
  uuid: string;
}

/**
 * Retention order, as every datastore's index of finished documents sorts (strings compared as
 * such: ISO-8601 UTC times sort as times, uuids byte by byte). Negative when `a` is older.
 */
export function compareFinished(a: FinishedPosition, b: FinishedPosition): number {
  if (a.finishedAt !== b.finishedAt) return a.finishedAt < b.finishedAt ? -1 : 1;
  if (a.uuid !== b.uuid) return a.uuid < b.uuid ? -1 : 1;
  return 0;
}

/**
 * Where a batch of `query` stops: documents strictly before the position go. `oldestKept` is
 * the `keepNewest`-th newest document (null when there are no more than `keepNewest`). A time
 * `finishedBefore` is the position (time, "") — every uuid sorts after "" — so one range of the
 * index answers both rules: the later of the two positions. Null: nothing goes.
 */
export function deletionBound(
  query: Pick<DeleteFinishedQuery, "finishedBefore">,
  oldestKept: FinishedPosition | null,
): FinishedPosition | null {
  const byAge = query.finishedBefore === undefined ? null : { finishedAt: query.finishedBefore, uuid: "" };
  if (byAge === null) return oldestKept;
  if (oldestKept === null) return byAge;
  return compareFinished(byAge, oldestKept) >= 0 ? byAge : oldestKept;
}
