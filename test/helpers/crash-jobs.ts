import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { BaseJob, z } from "zerog/job";

/** Jobs that misbehave in every way a job process must survive; loaded by job processes from this path. */

/** Stores the pid of the process that ran it. */
export class PidJob extends BaseJob {
  static override jobType = "pid";
  async run() {
    await this.setData({ pid: process.pid });
    return 200;
  }
}

/** Stores its pid, then waits `ms` (or until its signal): a healthy job running beside others. */
export class NeighbourJob extends BaseJob<typeof NeighbourJob.schema> {
  static override jobType = "neighbour";
  static override schema = z.object({ ms: z.number().int().min(0) });
  async run() {
    await this.setData({ pid: process.pid });
    await sleep(this.params.ms, undefined, { signal: this.signal }).catch(() => undefined);
    return 200;
  }
}

/** Calls process.exit mid-run, after logging (the log must still be recorded). */
export class ExitJob extends BaseJob<typeof ExitJob.schema> {
  static override jobType = "exit";
  static override schema = z.object({ code: z.number().int().default(1) });
  async run() {
    await this.logInfo("about to exit");
    await sleep(50);
    process.exit(this.params.code);
  }
}

/** Throws from a timer, outside run()'s promise chain. */
export class TimerThrowJob extends BaseJob {
  static override jobType = "timer_throw";
  async run() {
    setTimeout(() => {
      throw new Error("boom in a timer");
    }, 10);
    await sleep(5000);
    return 200;
  }
}

/** Allocates until its process runs out of heap. */
export class HogJob extends BaseJob {
  static override jobType = "hog";
  static override maxErrors = 1;
  async run() {
    const hold: number[][] = [];
    for (;;) hold.push(Array.from({ length: 100_000 }, (_, i) => i * Math.random()));
  }
}

/** Blocks its event loop for `ms`, then succeeds: no touch, no heartbeat from inside. */
export class SpinJob extends BaseJob<typeof SpinJob.schema> {
  static override jobType = "spin";
  static override maxErrors = 1;
  static override schema = z.object({ ms: z.number().int().min(0) });
  async run() {
    await this.setCompleteness(0.5);
    await sleep(30); // lets the progress message leave before the loop blocks
    const end = Date.now() + this.params.ms;
    while (Date.now() < end) {
      // spinning
    }
    return 200;
  }
}

/** Sleeps `ms` and ignores its signal: only killing its process stops it. */
export class StubbornJob extends BaseJob<typeof StubbornJob.schema> {
  static override jobType = "stubborn";
  static override schema = z.object({ ms: z.number().int().min(0) });
  async run() {
    await sleep(this.params.ms);
    return 200;
  }
}

/**
 * Writes straight to its IPC channel, as the worker's own messages look, changes job code may
 * not make: a finish, a new attempt, a kill request, and an op with a field of the wrong type.
 */
export class ForgeJob extends BaseJob {
  static override jobType = "forge";
  async run() {
    const at = new Date().toISOString();
    const ops = [
      { op: "finish", resultCode: 299, at },
      { op: "startRun", attempt: 99, workerId: "forger", at },
      { op: "requestKill" },
      { op: "addEvent", msg: 5, at },
    ];
    // The run's id is not given to job code; a fresh process's first run is 1, so cover a few.
    for (let runId = 1; runId <= 20; runId++) process.send?.({ t: "ops", runId, ops });
    await this.logInfo("forged");
    return 200;
  }
}

export const CRASH_JOBS = [PidJob, NeighbourJob, ExitJob, TimerThrowJob, HogJob, SpinJob, StubbornJob, ForgeJob];
export const CRASH_JOBS_MODULE = fileURLToPath(import.meta.url);
