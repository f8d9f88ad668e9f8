import cors from "@fastify/cors";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from "fastify";
import type { Logger } from "pino";
import type { JobClient } from "../client/job-client.ts";
import { ZeroGError } from "../errors.ts";
import type { WorkerManager } from "../fleet/worker-manager.ts";
import { type AuthOptions, registerAuth } from "./auth.ts";
import { discardBytesFor, refuseOversizedBody } from "./body-limit.ts";
import type { HealthReport } from "./health.ts";
import { errorBody, statusOf, toZeroGError } from "./http-errors.ts";
import { jsonDepth } from "./json-depth.ts";
import type { ServerMetrics } from "./metrics.ts";
import { checkRouteGuards } from "./route-guards.ts";
import { registerCancelRoutes } from "./routes/cancel-job.ts";
import { registerCreateRoutes } from "./routes/create-job.ts";
import { registerDiscovery, rewriteLeafPost } from "./routes/discovery.ts";
import { type JobEventsOptions, registerEventRoutes } from "./routes/job-events.ts";
import { registerPauseRoutes } from "./routes/job-type-pause.ts";
import { registerListRoutes } from "./routes/list-jobs.ts";
import { registerOpsRoutes } from "./routes/ops.ts";
import { registerReadRoutes } from "./routes/read-job.ts";
import { registerRetryRoutes } from "./routes/retry-job.ts";
import { registerUiRoutes } from "./routes/ui.ts";
import { registerWorkerRoutes } from "./routes/workers.ts";

export interface AppOptions {
  client: JobClient;
  /** Serves the fleet endpoints (GET /workers, drain, …) when given. */
  manager?: WorkerManager;
  logger?: Logger;
  /** Largest accepted request body; larger ones get 413. @defaultValue 1 MiB */
  bodyLimitBytes?: number;
  /** Allowed CORS origin(s). @defaultValue "*" (any origin) */
  corsOrigin?: string | string[];
  /** Deepest nesting a request body may have; deeper ones get 400. @defaultValue 32 */
  maxParamsDepth?: number;
  /** With a token, mutating and management endpoints need `Authorization: Bearer <token>`. */
  auth?: AuthOptions;
  /** GET /health's check; without one, /health answers 200 from the process alone. */
  health?: () => Promise<HealthReport>;
  /** Serves GET /metrics when given. */
  metrics?: ServerMetrics;
  /** GET /events/{uuid} (Server-Sent Events): poll interval, heartbeat. */
  events?: JobEventsOptions;
}

export const APP_DEFAULTS = { bodyLimitBytes: 1024 * 1024, corsOrigin: "*", maxParamsDepth: 32 } as const;

/** The HTTP API as a Fastify instance that is not listening: `listen()` it, or `inject()` in tests. */
export function createApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes,
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    // No per-request lines: at thousands of jobs/s they would cost more than the requests.
    logController: new LogController({ disableRequestLogging: true }),
    // Errors the router raises before any handler (a bad %-escape, an over-long segment) get ZeroG's shape too.
    frameworkErrors: (err, _req, reply) => sendError(reply as FastifyReply, toZeroGError(err)),
    // POST /{branch}/{leaf}/job is POST /job/{leaf} (discovery): same route, options and errors.
    rewriteUrl: (req) => rewriteLeafPost(req.method, req.url, opts.client.registry),
  });
  // First of all: every route registered after it must declare its guard, or the app does not start.
  checkRouteGuards(app);
  // Next: it records every route registered after it for GET /openapi.json.
  registerDiscovery(app, opts.client.registry, () => opts.client.pausedTypes());
  app.register(cors, {
    origin: opts.corsOrigin ?? APP_DEFAULTS.corsOrigin,
    methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    strictPreflight: false,
  });

  // Params are JSON whatever the Content-Type says: `curl -d '{…}'` sends form encoding by default.
  app.removeAllContentTypeParsers();
  const maxDepth = opts.maxParamsDepth ?? APP_DEFAULTS.maxParamsDepth;
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, {});
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      done(new ZeroGError("ZEROG_INVALID_JSON", `request body is not JSON: ${(err as Error).message}`), undefined);
      return;
    }
    if (jsonDepth(parsed, maxDepth) > maxDepth) {
      done(new ZeroGError("ZEROG_INVALID_JSON", `request body nests deeper than ${maxDepth} levels`), undefined);
      return;
    }
    done(null, parsed);
  });

  const maxDiscardBytes = discardBytesFor(opts.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes);
  app.setErrorHandler((err, req, reply) => {
    const zerr = toZeroGError(err);
    if (zerr.code === "ZEROG_INTERNAL") req.log.error({ err }, "request failed");
    // Refused while the client is still sending: answer so that it can read the 413 (body-limit.ts).
    if (zerr.code === "ZEROG_BODY_TOO_LARGE" && !req.raw.complete) {
      refuseOversizedBody(req, reply, errorBody(zerr), maxDiscardBytes);
      return;
    }
    sendError(reply, zerr);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new ZeroGError("ZEROG_ROUTE_NOT_FOUND", `no route ${req.method} ${req.url}`)),
  );

  // After the CORS plugin, so a 401 still carries CORS headers; hooks reach every route either way.
  const auth = opts.auth;
  if (auth) app.after(() => registerAuth(app, auth));

  registerCreateRoutes(app, opts.client);
  registerReadRoutes(app, opts.client);
  registerListRoutes(app, opts.client);
  registerCancelRoutes(app, opts.client);
  registerRetryRoutes(app, opts.client);
  registerPauseRoutes(app, opts.client);
  registerEventRoutes(app, opts.client, opts.events);
  registerUiRoutes(app);
  if (opts.manager) registerWorkerRoutes(app, opts.manager);
  registerOpsRoutes(app, {
    health: opts.health ?? (async () => ({ status: "ok", backend: "up", tookMs: 0 })),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  return app;
}

/** Every error answer: the code's HTTP status and `{error, message, issues?}` as JSON. */
function sendError(reply: FastifyReply, err: ZeroGError): void {
  reply.code(statusOf(err)).send(errorBody(err));
}
