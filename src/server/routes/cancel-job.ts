import type { FastifyInstance } from "fastify";
import { purgeJob } from "../../backends/purge-job.ts";
import { cancelJob } from "../../client/cancel-job.ts";
import type { JobClient } from "../../client/job-client.ts";
import { ZeroGError } from "../../errors.ts";
import { checkedUuid } from "./uuid.ts";

/**
 * `?purge=true|false`, parsed and checked by Fastify (a boolean; any other value is 400), so the
 * handler decides on the parsed value, never on how the URL spells it. Other parameters are
 * ignored, as they always were.
 */
const QUERY = {
  type: "object",
  properties: { purge: { type: "boolean" } },
} as const;

/**
 * DELETE /job/{uuid}: 200 `{uuid, result: "cancelled"}` for a waiting job (or one already
 * cancelled or killed by a user: idempotent), 202 `{uuid, result: "stopping"}` for a running one
 * (its worker records 410), 409 ZEROG_JOB_FINISHED for one that finished on its own, 404 for an
 * unknown uuid. The job document stays: GET /info shows error 410 "Killed by user".
 * With `?purge=true`: 200 `{uuid, result: "purged"}`, the finished job's document removed
 * (src/backends/purge-job.ts); 409 ZEROG_JOB_NOT_PURGEABLE for a job that has not finished.
 */
export function registerCancelRoutes(app: FastifyInstance, client: JobClient): void {
  app.delete<{ Params: { uuid: string }; Querystring: { purge?: boolean } }>(
    "/job/:uuid",
    // attachValidation: the refusal says what purge takes, in the API's words rather than Ajv's.
    { config: { guard: "token" }, schema: { querystring: QUERY }, attachValidation: true },
    async (req, reply) => {
      if (req.validationError)
        throw new ZeroGError("ZEROG_BAD_REQUEST", "purge must be true or false, given once (?purge=true)");
      const uuid = checkedUuid(req.params.uuid);
      if (req.query.purge === true) {
        await purgeJob(client.backend, uuid);
        return { uuid, result: "purged" };
      }
      const result = await cancelJob(client, uuid);
      reply.code(result === "stopping" ? 202 : 200);
      return { uuid, result };
    },
  );
}
