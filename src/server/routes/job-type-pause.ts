import type { FastifyInstance } from "fastify";
import type { JobClient } from "../../client/job-client.ts";

/** Pausing changes what every worker on the backend runs: always guarded by the token, like the fleet's control. */
const TOKEN = { config: { guard: "token" } } as const;

/**
 * `POST /jobtypes/{jobType}/pause` and `…/resume` (docs/api.md, "Pausing a job type"): 200
 * `{jobType, paused}`, idempotent; 404 ZEROG_UNKNOWN_JOB_TYPE for a type this server does not
 * serve. The state is kept in the backend, so every server sees it within a control poll.
 */
export function registerPauseRoutes(app: FastifyInstance, client: JobClient): void {
  for (const [action, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    app.post<{ Params: { jobType: string } }>(`/jobtypes/:jobType/${action}`, TOKEN, async (req) => {
      const { jobType } = req.params;
      await (paused ? client.pause(jobType) : client.resume(jobType));
      return { jobType, paused };
    });
  }
}
