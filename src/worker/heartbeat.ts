import type { Reserved } from "../contracts/queue.ts";
import { isZeroGError } from "../errors.ts";

/**
 * Keeps a reserved entry alive while its job runs and until its outcome is written, without the
 * job's help: touches it every ttr/3 so two missed touches still leave time before the TTR
 * passes. A lost reservation (the queue gave the entry to someone else: a connection that
 * dropped, a queue restarted from its log, a lease that ran out while the queue was out of
 * reach) does not stop the run: its next reserver sees the run still going and leaves it be,
 * and the document's attempt fences off any write should another run start after all.
 * `onLost` fires once, to say so.
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
