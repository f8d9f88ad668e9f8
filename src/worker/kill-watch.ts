import type { Datastore } from "../contracts/datastore.ts";
import { FencedError, isZeroGError } from "../errors.ts";

/** The abort reason of a run stopped because a user killed its job. */
export class KilledByUserError extends Error {
  constructor(uuid: string) {
    super(`job ${uuid} was killed by a user`);
    this.name = "KilledByUserError";
  }
}

/**
 * Polls a running job's document for a user's kill request (`killRequested`) and calls
 * `onStop` once when it appears, or when a newer attempt owns the job (another worker took it
 * over: this run is fenced off, even if it never writes). A poll is one primary-key read per
 * running job; every `pollMs` bounds how long a kill takes to stop the run.
 */
export function startKillWatch(
  datastore: Datastore,
  run: { uuid: string; attempt: number },
  pollMs: number,
  onStop: (reason: KilledByUserError | FencedError) => void,
  onError: (err: unknown) => void,
): { stop(): void } {
  const { uuid, attempt } = run;
  const timer = setInterval(() => {
    datastore.read(uuid).then(
      (read) => {
        if (!read) return;
        if (read.value.attempt !== attempt) {
          clearInterval(timer);
          onStop(new FencedError(uuid, attempt, read.value.attempt, null));
        } else if (read.value.killRequested) {
          clearInterval(timer);
          onStop(new KilledByUserError(uuid));
        }
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
