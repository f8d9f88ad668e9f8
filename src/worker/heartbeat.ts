import { isZeroGError } from "../errors.ts";
import type { Reserved } from "../queue/contract.ts";

/**
 * Keeps a reserved entry alive while its job runs, without the job's help: touches it every
 * ttr/3 so two missed touches still leave time before the TTR passes. If the reservation is
 * lost (another worker has the entry), `onLost` fires so the run can be told to stop.
 */
export function startHeartbeat(
  entry: Reserved,
  ttrSeconds: number,
  onLost: (err: Error) => void,
  onError: (err: unknown) => void,
): { stop(): void } {
  const timer = setInterval(
    () => {
      entry.touch().catch((err: unknown) => {
        if (isZeroGError(err, "ZEROG_ENTRY_LOST")) {
          clearInterval(timer);
          onLost(err);
        } else if (isZeroGError(err, "ZEROG_CLOSED")) {
          // The worker stopped while this run went on: the queue is closed for good.
          clearInterval(timer);
        } else onError(err);
      });
    },
    Math.max(100, (ttrSeconds * 1000) / 3),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
