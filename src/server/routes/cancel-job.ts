import type { FastifyInstance } from "fastify";
import { cancelJob } from "../../client/cancel-job.ts";
import type { JobClient } from "../../client/job-client.ts";
import { checkedUuid } from "./uuid.ts";

/**
 * DELETE /job/{uuid}: 200 `{uuid, result: "cancelled"}` for a waiting job (or one already
 * cancelled or killed by a user: idempotent), 202 `{uuid, result: "stopping"}` for a running one
 * (its worker records 410), 409 ZEROG_JOB_FINISHED for one that finished on its own, 404 for an
 * unknown uuid. The job document stays: GET /info shows error 410 "Killed by user".
 */
export function registerCancelRoutes(app: FastifyInstance, client: JobClient): void {
  app.delete<{ Params: { uuid: string } }>("/job/:uuid", { config: { guard: "token" } }, async (req, reply) => {
    const uuid = checkedUuid(req.params.uuid);
    const result = await cancelJob(client, uuid);
    reply.code(result === "stopping" ? 202 : 200);
    return { uuid, result };
  });
}
