import type { ListCursor } from "./datastore.ts";

/**
 * Listing order, as every datastore's index sorts: newest `createdAt` first, then the larger
 * `uuid` first among jobs created in the same millisecond. Negative when `a` lists before `b`.
 * Both are compared as strings (ISO-8601 UTC times sort as times; uuids byte by byte).
 */
export function compareListOrder(a: ListCursor, b: ListCursor): number {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt ? -1 : 1;
  if (a.uuid !== b.uuid) return a.uuid > b.uuid ? -1 : 1;
  return 0;
}
