import type { Datastore } from "../datastore/contract.ts";
import { isZeroGError } from "../errors.ts";

/** The abort reason of a run stopped because a user killed its job. */
export class KilledByUserError extends Error {
  constructor(uuid: string) {
    super(`job ${uuid} was killed by a user`);
    this.name = "KilledByUserError";
  }
}

/**
 * Polls a running job's document for a user's kill request (`killRequested`) and calls
 * `onKill` once when it appears. A poll is one primary-key read per running job; every
 * `pollMs` bounds how long a kill takes to stop the run.
 */
export function startKillWatch(
  datastore: Datastore,
  uuid: string,
  pollMs: number,
  onKill: (reason: KilledByUserError) => void,
  onError: (err: unknown) => void,
): { stop(): void } {
  const timer = setInterval(() => {
    datastore.read(uuid).then(
      (read) => {
        if (!read?.value.killRequested) return;
        clearInterval(timer);
        onKill(new KilledByUserError(uuid));
      },
      (err: unknown) => {
        // A run that outlived its worker's stop: the datastore is closed, and nothing can be read again.
        if (isZeroGError(err, "ZEROG_CLOSED")) clearInterval(timer);
        else onError(err);
      },
    );
  }, pollMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
