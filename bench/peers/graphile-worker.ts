// graphile-worker on PostgreSQL, the same no-op workload as ZeroG's, in its default and its batched mode.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Logger, makeWorkerUtils, run } from "graphile-worker";

/** graphile-worker logs every start and stop to the console; the benchmark prints JSON lines only. */
const quiet = new Logger(() => () => undefined);

import pg from "pg";

/** Jobs/s for `jobs` pre-filled no-op jobs at `concurrency`; `batched` turns on its local queue and batched completion. */
export async function graphileProcess(
  pgUrl: string,
  jobs: number,
  concurrency: number,
  batched: boolean,
): Promise<number> {
  const schema = `gw_bench_${randomBytes(4).toString("hex")}`;
  const utils = await makeWorkerUtils({ connectionString: pgUrl, schema, logger: quiet });
  await utils.migrate();
  for (let i = 0; i < jobs; i += 1000) {
    await utils.addJobs(Array.from({ length: Math.min(1000, jobs - i) }, () => ({ identifier: "noop", payload: {} })));
  }
  await utils.release();
  let done = 0;
  let allDone = (): void => undefined;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const t = performance.now();
  const runner = await run({
    connectionString: pgUrl,
    schema,
    concurrency,
    noHandleSignals: true,
    logger: quiet,
    pollInterval: 1000,
    taskList: {
      noop: async () => {
        if (++done === jobs) allDone();
      },
    },
    ...(batched
      ? { preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } }
      : {}),
  });
  await finished;
  const seconds = (performance.now() - t) / 1000;
  await runner.stop();
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  return jobs / seconds;
}
