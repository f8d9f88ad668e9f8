import type { FastifyInstance } from "fastify";
import type { JobClient } from "../../client/job-client.ts";
import { checkedUuid } from "./uuid.ts";

type UuidRoute = { Params: { uuid: string } };

const READ = { config: { guard: "read" } } as const;

/** A job's read endpoints: progress, info, data, dump; and killing a job. */
export function registerReadRoutes(app: FastifyInstance, client: JobClient): void {
  app.get<UuidRoute>("/progress/:uuid", READ, async (req) => client.progress(checkedUuid(req.params.uuid)));
  app.get<UuidRoute>("/info/:uuid", READ, async (req) => client.info(checkedUuid(req.params.uuid)));
  app.get<UuidRoute>("/data/:uuid", READ, async (req, reply) => {
    // Serialize ourselves: Fastify sends a bare string as text, but every answer here is JSON.
    const data = await client.data(checkedUuid(req.params.uuid));
    reply.type("application/json; charset=utf-8");
    return JSON.stringify(data ?? null);
  });
  app.get<UuidRoute & { Querystring: { showLogs?: string } }>("/dump/:uuid", READ, async (req) =>
    client.dump(checkedUuid(req.params.uuid), { showLogs: req.query.showLogs === "true" }),
  );
  // A kill: 410 "Killed by user" (row 8 of the outcome table in docs/job-states.md). `result` says
  // whether it was waiting (killed now), running (its worker stops it within a second or two), or
  // had already finished.
  app.post<UuidRoute>("/job/:uuid/kill", { config: { guard: "token" } }, async (req, reply) => {
    const uuid = checkedUuid(req.params.uuid);
    const result = await client.kill(uuid);
    reply.code(result === "stopping" ? 202 : 200);
    return { uuid, result };
  });
}
