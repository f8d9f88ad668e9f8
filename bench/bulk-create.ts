// The bulk section: jobs created 1,000 a call (JobClient.createMany) into a fresh store of each
// backend, and the peers' bulk adds on the same service, alternated round by round: BullMQ's
// addBulk (Redis) and graphile-worker's addJobs (PostgreSQL). Jobs/s, and the median of the
// rounds' ZeroG/peer ratios.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Queue } from "bullmq";
import { Logger, makeWorkerUtils } from "graphile-worker";
import pg from "pg";
import { JobClient, JobRegistry, openBackend } from "zerog";
import { type BenchBackend, type BenchUrls, PEER_URLS } from "./backends.ts";
import { NoopJob } from "./noop-job.ts";
import { quantile, report, round } from "./stats.ts";

const PER_CALL = 1000;

export async function bulkSection(backends: readonly BenchBackend[], jobs: number, rounds: number): Promise<void> {
  for (const b of backends) {
    const peer = b.name === "redis" ? bullmqBulk : b.name === "postgres" ? graphileBulk : null;
    const zerogRuns: number[] = [];
    const peerRuns: number[] = [];
    for (let i = 0; i < rounds; i++) {
      zerogRuns.push(await zerogBulk(await b.fresh(), jobs));
      if (peer) peerRuns.push(await peer(jobs));
    }
    report({
      bench: "bulk-create",
      backend: b.name,
      perCall: PER_CALL,
      jobs,
      jobsPerSec: round(quantile(zerogRuns, 0.5), 0),
      runs: zerogRuns.map((r) => round(r, 0)),
    });
    if (!peer) continue;
    const name = b.name === "redis" ? "bullmq addBulk" : "graphile-worker addJobs";
    const ratios = zerogRuns.map((z, i) => z / (peerRuns[i] ?? Number.NaN));
    report({
      bench: "bulk-peer",
      peer: name,
      jobs,
      jobsPerSec: round(quantile(peerRuns, 0.5), 0),
      runs: peerRuns.map((r) => round(r, 0)),
    });
    report({
      bench: "bulk-ratio",
      zerog: b.name,
      peer: name,
      zerogOverPeer: round(quantile(ratios, 0.5), 2),
      rounds: ratios.map((r) => round(r, 2)),
    });
  }
}

async function zerogBulk(urls: BenchUrls, jobs: number): Promise<number> {
  const backend = await openBackend(urls);
  const client = new JobClient(backend, new JobRegistry([NoopJob]), { queueName: "bench_jobs", ttrSeconds: 60 });
  try {
    return await timed(jobs, (n) =>
      client.createMany(
        "noop",
        Array.from({ length: n }, () => ({})),
      ),
    );
  } finally {
    await backend.close();
  }
}

async function bullmqBulk(jobs: number): Promise<number> {
  const { hostname, port } = new URL(PEER_URLS.redis);
  const queue = new Queue(`zerog_bench_${randomBytes(4).toString("hex")}`, {
    connection: { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null },
  });
  try {
    return await timed(jobs, (n) => queue.addBulk(Array.from({ length: n }, () => ({ name: "noop", data: {} }))));
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function graphileBulk(jobs: number): Promise<number> {
  const schema = `gw_bench_${randomBytes(4).toString("hex")}`;
  const logger = new Logger(() => () => undefined);
  const utils = await makeWorkerUtils({ connectionString: PEER_URLS.postgres, schema, logger });
  try {
    await utils.migrate();
    return await timed(jobs, (n) =>
      utils.addJobs(Array.from({ length: n }, () => ({ identifier: "noop", payload: {} }))),
    );
  } finally {
    await utils.release();
    const client = new pg.Client({ connectionString: PEER_URLS.postgres });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

/** Jobs/s of `add` called PER_CALL jobs at a time, one call after another, until `jobs`. */
async function timed(jobs: number, add: (n: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < jobs; i += PER_CALL) await add(Math.min(PER_CALL, jobs - i));
  return jobs / ((performance.now() - t0) / 1000);
}
