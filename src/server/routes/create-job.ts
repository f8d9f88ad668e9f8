import type { FastifyInstance } from "fastify";
import type { BulkJob } from "../../client/bulk-create.ts";
import type { JobClient } from "../../client/job-client.ts";
import { createOptionsOf } from "./create-options.ts";

const TOKEN = { config: { guard: "token" } } as const;

/**
 * POST /job/{jobType}: validate, persist, enqueue → 201 {uuid}. Options ride beside the
 * params (create-options.ts): `?delay=&priority=` and `Idempotency-Key`. A repeat of a key within
 * its window creates nothing and answers 200 with the first job's uuid and `Idempotent-Replayed: true`.
 */
export function registerCreateRoutes(app: FastifyInstance, client: JobClient): void {
  // POST /jobs: many at once, all validated first (JobClient.createJobs). 201 when any is new.
  app.post("/jobs", TOKEN, async (req, reply) => {
    const opts = createOptionsOf(req);
    const created = await client.createJobs(req.body as BulkJob[], opts);
    const fresh = created.filter((c) => c.created).length;
    reply.code(fresh > 0 ? 201 : 200);
    if (fresh === 0) reply.header("idempotent-replayed", "true");
    return { uuids: created.map((c) => c.uuid), created: fresh };
  });
  app.post<{ Params: { jobType: string } }>("/job/:jobType", TOKEN, async (req, reply) => {
    const opts = createOptionsOf(req);
    // No body at all (no Content-Type either) means no params: the schema's defaults apply.
    const { uuid, created } = await client.createJob(req.params.jobType, req.body === undefined ? {} : req.body, opts);
    reply.code(created ? 201 : 200);
    if (!created) reply.header("idempotent-replayed", "true");
    return { uuid };
  });
}
