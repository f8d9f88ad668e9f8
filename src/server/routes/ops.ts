import type { FastifyInstance } from "fastify";
import type { HealthReport } from "../health.ts";
import type { ServerMetrics } from "../metrics.ts";

/** GET /health (200 or 503, never guarded by the API token) and GET /metrics (Prometheus text). */
export function registerOpsRoutes(
  app: FastifyInstance,
  ops: { health: () => Promise<HealthReport>; metrics?: ServerMetrics },
): void {
  app.get("/health", { config: { guard: "open" } }, async (_req, reply) => {
    const report = await ops.health();
    reply.code(report.status === "ok" ? 200 : 503);
    return report;
  });
  const metrics = ops.metrics;
  if (metrics) {
    app.get("/metrics", { config: { guard: "token" } }, async (_req, reply) => {
      const { contentType, body } = await metrics.scrape();
      reply.type(contentType);
      return body;
    });
  }
}
