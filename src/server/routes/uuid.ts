import { JobNotFoundError } from "../../errors.ts";

/** A uuid as the API accepts one in a path or a cursor: checked before any lookup. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path's uuid, lower-cased; a malformed one is answered like an unknown one and never reaches the datastore. */
export function checkedUuid(uuid: string): string {
  if (!UUID_PATTERN.test(uuid)) throw new JobNotFoundError(uuid);
  return uuid.toLowerCase();
}
