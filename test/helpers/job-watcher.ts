import type { EventEmitter } from "node:events";
import type { WorkerEventMap } from "zerog";

type Finished = WorkerEventMap["job:finished"][0];

/**
 * Records every job a worker finishes from the moment it is created, so a test can await a
 * job that may finish before the test asks about it. Waits on events, never on sleeps.
 */
export class JobWatcher {
  /** Each job's finishes in order: a job a user retried finishes more than once. */
  readonly #finished = new Map<string, Finished[]>();
  readonly #waiting = new Map<string, { times: number; resolve: (f: Finished) => void }[]>();
  readonly unloadable: WorkerEventMap["entry:unloadable"][0][] = [];
  readonly dropped: WorkerEventMap["entry:dropped"][0][] = [];
  readonly fenced: string[] = [];
  readonly started: string[] = [];
  readonly requeued: WorkerEventMap["job:requeued"][0][] = [];

  constructor(events: EventEmitter<WorkerEventMap>) {
    events.on("job:finished", (f) => {
      const all = [...(this.#finished.get(f.uuid) ?? []), f];
      this.#finished.set(f.uuid, all);
      const waiting = this.#waiting.get(f.uuid) ?? [];
      for (const w of waiting) if (w.times === all.length) w.resolve(f);
      this.#waiting.set(
        f.uuid,
        waiting.filter((w) => w.times > all.length),
      );
    });
    events.on("entry:unloadable", (u) => this.unloadable.push(u));
    events.on("entry:dropped", (d) => this.dropped.push(d));
    events.on("job:fenced", (f) => this.fenced.push(f.uuid));
    events.on("job:started", (s) => this.started.push(s.uuid));
    events.on("job:requeued", (r) => this.requeued.push(r));
  }

  /** Resolves when `uuid` has finished (at once, with its latest finish, if it already has); rejects after `timeoutMs`. */
  finished(uuid: string, timeoutMs = 15_000): Promise<Finished> {
    const latest = this.#finished.get(uuid)?.at(-1);
    return latest ? Promise.resolve(latest) : this.finishedTimes(uuid, 1, timeoutMs);
  }

  /** How many times `uuid` has finished so far. */
  finishCount(uuid: string): number {
    return this.#finished.get(uuid)?.length ?? 0;
  }

  /** Resolves with the `times`-th finish of `uuid` (at once if it has happened); rejects after `timeoutMs`. */
  finishedTimes(uuid: string, times: number, timeoutMs = 15_000): Promise<Finished> {
    const done = this.#finished.get(uuid)?.[times - 1];
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`job ${uuid} did not finish ${times} time(s) in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const list = this.#waiting.get(uuid) ?? [];
      list.push({
        times,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
      this.#waiting.set(uuid, list);
    });
  }
}
