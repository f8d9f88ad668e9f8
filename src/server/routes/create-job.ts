import type { FastifyInstance } from "fastify";
import type { JobClient } from "../../job/job-client.ts";

/** POST /job/{jobType}: validate, persist, enqueue → 201 {uuid} (SPEC §5). */
export function registerCreateRoutes(app: FastifyInstance, client: JobClient): void {
  app.post<{ Params: { jobType: string } }>("/job/:jobType", async (req, reply) => {
    // No body at all (no Content-Type either) means no params: the schema's defaults apply.
    const uuid = await client.create(req.params.jobType, req.body === undefined ? {} : req.body);
    reply.code(201);
    return { uuid };
  });
}
