// A server for the HTTP create benchmark, in its own process so the load generator does not share its CPU.
// argv[2], argv[3]: datastore and queue URLs (ZeroG's POST /job/noop on them, API only), or "bare" (a bare
// Fastify JSON route, the baseline).
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import { pino } from "pino";
import { Server } from "zerog";
import { NoopJob } from "./noop-job.ts";

const target = process.argv[2] ?? "bare";
let url: string;
if (target === "bare") {
  const app = Fastify();
  app.post("/job/noop", async (_req, reply) => {
    reply.code(201);
    return { uuid: randomUUID() };
  });
  url = await app.listen({ port: 0, host: "127.0.0.1" });
} else {
  const server = new Server({
    jobs: [NoopJob],
    datastore: target,
    queue: process.argv[3] ?? target,
    concurrency: 0,
    logger: pino({ level: "warn" }),
  });
  url = await server.listen({ port: 0, host: "127.0.0.1" });
}
process.send?.({ url });
