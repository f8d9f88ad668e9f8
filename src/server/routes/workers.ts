import type { FastifyInstance } from "fastify";
import type { WorkerManager } from "../../fleet/worker-manager.ts";

type Action = "drain" | "undrain" | "retire";
const ACTIONS: readonly Action[] = ["drain", "undrain", "retire"];
/** Fleet reads are management: like the control requests, they need the token whenever one is set. */
const TOKEN = { config: { guard: "token" } } as const;

/**
 * Capacity management over HTTP (docs/capacity.md): the fleet view an autoscaler polls, and
 * drain / undrain / retire per worker or per host. Control requests answer 202: workers apply
 * them within their poll interval, and GET /workers shows the new state.
 */
export function registerWorkerRoutes(app: FastifyInstance, manager: WorkerManager): void {
  app.get("/workers", TOKEN, async () => manager.overview());
  app.get<{ Params: { id: string } }>("/workers/:id", TOKEN, async (req) => manager.worker(req.params.id));
  app.get<{ Params: { host: string } }>("/hosts/:host", TOKEN, async (req) => manager.host(req.params.host));
  for (const action of ACTIONS) {
    app.post<{ Params: { id: string } }>(`/workers/:id/${action}`, TOKEN, async (req, reply) => {
      reply.code(202);
      return manager[action](req.params.id);
    });
    app.post<{ Params: { host: string } }>(`/hosts/:host/${action}`, TOKEN, async (req, reply) => {
      reply.code(202);
      return manager[`${action}Host`](req.params.host);
    });
  }
}
