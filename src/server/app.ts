import cors from "@fastify/cors";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from "fastify";
import type { Logger } from "pino";
import { ZeroGError } from "../errors.ts";
import type { WorkerManager } from "../fleet/worker-manager.ts";
import type { JobClient } from "../job/job-client.ts";
import { errorBody, statusOf, toZeroGError } from "./http-errors.ts";
import { registerCreateRoutes } from "./routes/create-job.ts";
import { registerReadRoutes } from "./routes/read-job.ts";
import { registerWorkerRoutes } from "./routes/workers.ts";

export interface AppOptions {
  client: JobClient;
  /** Serves the fleet endpoints (GET /workers, drain, …) when given. */
  manager?: WorkerManager;
  logger?: Logger;
  /** Largest accepted request body; larger ones get 413. @defaultValue 1 MiB */
  bodyLimitBytes?: number;
  /** Allowed CORS origin(s). @defaultValue "*" (the seed's) */
  corsOrigin?: string | string[];
}

export const APP_DEFAULTS = { bodyLimitBytes: 1024 * 1024, corsOrigin: "*" } as const;

/** The HTTP API as a Fastify instance that is not listening: `listen()` it, or `inject()` in tests. */
export function createApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes,
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    // No per-request lines: at thousands of jobs/s they would cost more than the requests.
    logController: new LogController({ disableRequestLogging: true }),
    // Errors the router raises before any handler (a bad %-escape, an over-long segment) get ZeroG's shape too.
    frameworkErrors: (err, _req, reply) => sendError(reply as FastifyReply, toZeroGError(err)),
  });
  app.register(cors, {
    origin: opts.corsOrigin ?? APP_DEFAULTS.corsOrigin,
    methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    strictPreflight: false,
  });

  // Params are JSON whatever the Content-Type says: `curl -d '{…}'` sends form encoding by default.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new ZeroGError("ZEROG_INVALID_JSON", `request body is not JSON: ${(err as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const zerr = toZeroGError(err);
    if (zerr.code === "ZEROG_INTERNAL") req.log.error({ err }, "request failed");
    sendError(reply, zerr);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new ZeroGError("ZEROG_ROUTE_NOT_FOUND", `no route ${req.method} ${req.url}`)),
  );

  registerCreateRoutes(app, opts.client);
  registerReadRoutes(app, opts.client);
  if (opts.manager) registerWorkerRoutes(app, opts.manager);
  return app;
}

/** Every error answer: the code's HTTP status and `{error, message, issues?}` as JSON. */
function sendError(reply: FastifyReply, err: ZeroGError): void {
  reply.code(statusOf(err)).send(errorBody(err));
}
