import type { EventEmitter } from "node:events";
import type { WorkerEventMap } from "zerog";

type Finished = WorkerEventMap["job:finished"][0];

/**
 * Records every job a worker finishes from the moment it is created, so a test can await a
 * job that may finish before the test asks about it. Waits on events, never on sleeps.
 */
export class JobWatcher {
  readonly #finished = new Map<string, Finished>();
  readonly #waiting = new Map<string, ((f: Finished) => void)[]>();
  readonly unloadable: WorkerEventMap["entry:unloadable"][0][] = [];
  readonly dropped: WorkerEventMap["entry:dropped"][0][] = [];
  readonly fenced: string[] = [];
  readonly started: string[] = [];
  readonly requeued: WorkerEventMap["job:requeued"][0][] = [];

  constructor(events: EventEmitter<WorkerEventMap>) {
    events.on("job:finished", (f) => {
      this.#finished.set(f.uuid, f);
      for (const resolve of this.#waiting.get(f.uuid) ?? []) resolve(f);
      this.#waiting.delete(f.uuid);
    });
    events.on("entry:unloadable", (u) => this.unloadable.push(u));
    events.on("entry:dropped", (d) => this.dropped.push(d));
    events.on("job:fenced", (f) => this.fenced.push(f.uuid));
    events.on("job:started", (s) => this.started.push(s.uuid));
    events.on("job:requeued", (r) => this.requeued.push(r));
  }

  /** Resolves when `uuid` has finished (at once if it already has); rejects after `timeoutMs`. */
  finished(uuid: string, timeoutMs = 15_000): Promise<Finished> {
    const done = this.#finished.get(uuid);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${uuid} did not finish in ${timeoutMs} ms`)), timeoutMs);
      const list = this.#waiting.get(uuid) ?? [];
      list.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.#waiting.set(uuid, list);
    });
  }
}
