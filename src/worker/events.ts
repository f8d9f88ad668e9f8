/** What a worker reports as it goes; tests and the benchmark wait on these instead of sleeping. */
export interface WorkerEventMap {
  "job:started": [{ uuid: string; jobType: string; attempt: number }];
  "job:finished": [{ uuid: string; jobType: string; resultCode: number }];
  "job:requeued": [{ uuid: string; jobType: string; delaySeconds: number }];
  /** A newer attempt took the job over; this run's result was discarded. */
  "job:fenced": [{ uuid: string; jobType: string; attempt: number }];
  /** An entry came back while its job still runs on a live worker (`runningOn`): released for `delaySeconds`, not run. */
  "job:deferred": [{ uuid: string; jobType: string; runningOn: string; delaySeconds: number }];
  /** A dead worker's running job went back to the queue (its entry's lease was ended), to run again elsewhere. */
  "job:rescued": [{ uuid: string; entryId: string; deadWorker: string }];
  /** An entry whose job could not be loaded was released to try later, or buried for good. */
  "entry:unloadable": [{ entryId: string; reason: string; action: "released" | "buried" }];
  /** Every slot has stopped reserving (a drain or retire): until undrained, the worker takes no job. */
  "worker:drained": [{ slots: number }];
  /** The served job types this worker leaves waiting changed (a pause or resume read from the fleet store), or were first read. */
  "worker:paused": [{ pausedTypes: string[] }];
  /**
   * An entry whose job's document was removed (by retention, a purge, a create that was undone)
   * was deleted: its job was made long enough ago that the document cannot still be on its way.
   */
  "entry:dropped": [{ entryId: string; uuid: string; reason: string }];
  /** Something failed outside any job (the backend, most likely); the worker carries on. */
  "worker:error": [{ error: unknown }];
}
