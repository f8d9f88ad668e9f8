import { NOT_ENQUEUED } from "../backends/requeuer.ts";
import type { Backend } from "../contracts/backend.ts";
import type { ListCursor } from "../contracts/datastore.ts";
import type { Clock } from "../internal/clock.ts";

export interface RescuerOptions {
  backend: Backend;
  /** This worker: the pass runs on one worker of the fleet at a time, the live one with the smallest id. */
  workerId: string;
  clock: Clock;
  /** How often to look. */
  intervalMs: number;
  /** Running jobs read per page. @defaultValue 200 */
  pageSize?: number;
  onRescued?: (r: { uuid: string; entryId: string; deadWorker: string }) => void;
  onError: (err: unknown) => void;
}

/**
 * Gives a dead worker's running jobs back to the queue as soon as the fleet counts the worker
 * dead (it stopped announcing itself for `workerTtlMs`), instead of when their reservations'
 * TTR passes (60 s by default): it ends each such entry's lease (`Queue.expire`), so the next
 * reserve takes it over, records the dead run as killed and starts a new attempt; the dead run
 * can write nothing more (its attempt is fenced off). One worker of the fleet does it (the live
 * one with the smallest id), in pages, about once a second.
 *
 * Queues without `expire` need none of it: Beanstalkd returns a holder's reservations to ready
 * by itself when the holder's connection closes, which a dead server's does.
 */
export class Rescuer {
  readonly #o: RescuerOptions;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<number> | undefined;
  #stopped = false;

  constructor(opts: RescuerOptions) {
    this.#o = opts;
  }

  start(): void {
    if (!this.#o.backend.queue.expire || this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => {
      if (this.#pass) return;
      this.#pass = this.pass()
        .catch((err: unknown) => {
          this.#o.onError(err);
          return 0;
        })
        .finally(() => {
          this.#pass = undefined;
        });
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#pass;
  }

  /** One look, on the fleet's rescuing worker only; resolves with how many entries it gave back. */
  async pass(): Promise<number> {
    const { backend, clock, workerId } = this.#o;
    const expire = backend.queue.expire?.bind(backend.queue);
    if (!expire) return 0;
    const live = await backend.fleet.listWorkers(clock.now());
    if (live[0]?.workerId !== workerId) return 0;
    const alive = new Set(live.map((w) => w.workerId));
    const pageSize = this.#o.pageSize ?? 200;
    let rescued = 0;
    let before: ListCursor | undefined;
    for (;;) {
      const page = await backend.datastore.list({ state: "running", limit: pageSize, ...(before ? { before } : {}) });
      for (const doc of page) {
        if (this.#stopped) return rescued;
        const entryId = doc.queueJobId;
        if (!doc.running || !doc.workerId || alive.has(doc.workerId)) continue;
        if (!entryId || entryId === NOT_ENQUEUED) continue;
        if (await expire(entryId)) {
          rescued++;
          this.#o.onRescued?.({ uuid: doc.uuid, entryId, deadWorker: doc.workerId });
        }
      }
      const last = page.at(-1);
      if (!last || page.length < pageSize) return rescued;
      before = { createdAt: last.createdAt, uuid: last.uuid };
    }
  }
}
