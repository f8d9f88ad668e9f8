import { setTimeout as sleep } from "node:timers/promises";
import { probeDatastore, probeQueue } from "../backends/probe.ts";
import type { Backend } from "../contracts/backend.ts";
import { backoffMs } from "../internal/backoff.ts";
import type { Logger } from "../internal/logger.ts";

export interface BackendWaitOptions {
  backend: Backend;
  /** The queues whose stats the probe reads: the base queue and each job type's. */
  queueNames: readonly string[];
  /** Longest pause between probes. */
  maxBackoffMs: number;
  /** Ends the wait (the worker is stopping). */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * While the backend is unavailable (down, or stalled past its time limit), a worker's slots
 * wait here instead of each retrying its reserve. A reserve sent to a stalled server is not
 * lost when its caller gives up: the server may run it on waking and lease entries that nobody
 * then runs until their lease ends. So one probe for the whole worker, which changes nothing (a
 * document read and the queue's stats), runs 200 ms after the failure, then at a back-off
 * doubling up to `maxBackoffMs`; the slots resume when one answers.
 */
export class BackendWait {
  readonly #o: BackendWaitOptions;
  #waiting: Promise<void> | undefined;

  constructor(opts: BackendWaitOptions) {
    this.#o = opts;
  }

  /** Resolves once the backend answers a probe, or the signal fires. Callers share one probe loop. */
  untilAnswers(): Promise<void> {
    this.#waiting ??= this.#probe().finally(() => {
      this.#waiting = undefined;
    });
    return this.#waiting;
  }

  async #probe(): Promise<void> {
    const { backend, queueNames, maxBackoffMs, signal, logger } = this.#o;
    logger.warn("backend unavailable; reserves paused until it answers");
    for (let failures = 1; !signal.aborted; failures++) {
      const waitMs = backoffMs(failures, maxBackoffMs);
      await sleep(waitMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      try {
        await Promise.all([probeDatastore(backend), probeQueue(backend, queueNames)]);
        logger.info({ failedProbes: failures - 1 }, "backend answers again; reserves resumed");
        return;
      } catch (err) {
        logger.warn({ err, backoffMs: waitMs }, "backend still unavailable");
      }
    }
  }
}
