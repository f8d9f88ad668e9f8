// Profiles the processing path: PROFILE_OUT=x.cpuprofile node … bench/profile-process.ts [concurrency]
import { mkdtempSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { JobClient, JobRegistry, openBackend, Worker } from "zerog";
import { NoopJob } from "./noop-job.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const concurrency = Number(process.argv[2] ?? 50);
const url = process.env.PROFILE_URL ?? `sqlite:${join(mkdtempSync(join(tmpdir(), "zerog-prof-")), "p.db")}`;
const backend = await openBackend({ datastore: url, queue: url });
const registry = new JobRegistry([NoopJob]);
const client = new JobClient(backend, registry, { queueName: "bench_jobs", ttrSeconds: 60 });
for (let i = 0; i < JOBS; i += 500) await Promise.all(Array.from({ length: 500 }, () => client.create("noop", {})));
const worker = new Worker({ jobs: registry, backend, concurrency, name: "bench", logger: pino({ level: "silent" }) });
let finished = 0;
const done = new Promise<void>((r) => worker.events.on("job:finished", () => ++finished === JOBS && r()));
// Profile the processing phase only (the pre-fill is measured separately).
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.start");
const t = performance.now();
const cpu0 = process.cpuUsage();
await worker.start();
await done;
const cpu = process.cpuUsage(cpu0);
const { profile } = await session.post("Profiler.stop");
writeFileSync(process.env.PROFILE_OUT ?? "process.cpuprofile", JSON.stringify(profile));
const wallMs = performance.now() - t;
console.log(
  JSON.stringify({
    concurrency,
    jobsPerSec: Math.round(JOBS / (wallMs / 1000)),
    cpuUsPerJob: Math.round((cpu.user + cpu.system) / JOBS),
    systemShare: Math.round((cpu.system / (cpu.user + cpu.system)) * 100) / 100,
    cpuShareOfWall: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100) / 100,
  }),
);
await worker.stop();
await backend.close();
