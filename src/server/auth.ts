import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UnauthorizedError } from "../errors.ts";
import type { RouteGuard } from "./route-guards.ts";

export interface AuthOptions {
  /** The API token; requests it guards need `Authorization: Bearer <token>`. */
  token: string;
  /** Guard read-only endpoints too (progress, info, data, dump, listing, discovery, events). @defaultValue false */
  protectReads?: boolean;
}

/**
 * With an API token set, a request needs `Authorization: Bearer <token>` (compared in constant
 * time) when the route it matched declares `guard: "token"`, or `"read"` with `protectReads`
 * (route-guards.ts). The router has already normalised the path (%-escapes, absolute-form targets,
 * fragments), so the matched route, not the URL text, decides. A request that matches no route is
 * treated as `"token"`: without the token it learns nothing, not even that the path does not exist.
 */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const expected = digest(opts.token);
  const protectReads = opts.protectReads ?? false;
  app.addHook("onRequest", async (req, reply) => {
    if (!needsToken(guardOf(req), protectReads)) return;
    const header = req.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    const given = match?.[1] ?? queryToken(req);
    if (!given) {
      reply.header("www-authenticate", 'Bearer realm="zerog"');
      throw new UnauthorizedError("this endpoint needs an API token: Authorization: Bearer <token>");
    }
    // Digests have one length whatever was sent, so the comparison takes the same time for any guess.
    if (!timingSafeEqual(digest(given), expected)) {
      reply.header("www-authenticate", 'Bearer realm="zerog", error="invalid_token"');
      throw new UnauthorizedError("the API token is wrong");
    }
  });
}

/** The matched route's guard; no route (or, defensively, a route without one) is the strictest. */
function guardOf(req: FastifyRequest): RouteGuard {
  if (req.is404) return "token";
  return req.routeOptions.config.guard ?? "token";
}

function needsToken(guard: RouteGuard, protectReads: boolean): boolean {
  return guard === "token" || (guard === "read" && protectReads);
}

/**
 * `?access_token=` on routes that declare `queryToken` (GET /events/{uuid}), GET only: a browser's
 * EventSource cannot send headers. Other endpoints take the header alone, so tokens do not end up
 * in URLs (and logs) elsewhere.
 */
function queryToken(req: FastifyRequest): string | null {
  if (req.method !== "GET" || req.is404 || req.routeOptions.config.queryToken !== true) return null;
  const q = req.query as Record<string, unknown> | undefined;
  const t = q?.access_token;
  return typeof t === "string" && t !== "" ? t : null;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
