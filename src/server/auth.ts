import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UnauthorizedError } from "../errors.ts";

export interface AuthOptions {
  /** The API token; requests it guards need `Authorization: Bearer <token>`. */
  token: string;
  /** Guard read-only endpoints too (progress, info, data, dump, listing, discovery, events). @defaultValue false */
  protectReads?: boolean;
}

/** Read-only, but management: guarded whenever a token is set. */
const MANAGEMENT_READS = /^\/(workers|hosts|metrics)(\/|$|\?)/;
/** Never guarded: /health (probed without credentials) and the dashboard's files at / and /ui (no data). */
const OPEN = /^\/((health|ui)(\/|$|\?)|$|\?)/;

/**
 * With an API token set, every mutating request (anything but GET, HEAD and OPTIONS) and every
 * management read (fleet, metrics) needs `Authorization: Bearer <token>`, compared in constant
 * time; other reads too with `protectReads`. CORS preflights, /health and the dashboard stay open.
 */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const expected = digest(opts.token);
  app.addHook("onRequest", async (req, reply) => {
    if (!guarded(req, opts.protectReads ?? false)) return;
    const header = req.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    const given = match?.[1] ?? streamToken(req);
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

function guarded(req: FastifyRequest, protectReads: boolean): boolean {
  if (req.method === "OPTIONS" || OPEN.test(req.url)) return false;
  if (req.method !== "GET" && req.method !== "HEAD") return true;
  return protectReads || MANAGEMENT_READS.test(req.url);
}

/**
 * `?access_token=` on GET /events/{uuid} only: a browser's EventSource cannot send headers. Other
 * endpoints take the header alone, so tokens do not end up in URLs (and logs) elsewhere.
 */
function streamToken(req: FastifyRequest): string | null {
  if (req.method !== "GET" || !req.url.startsWith("/events/")) return null;
  const q = req.query as Record<string, unknown> | undefined;
  const t = q?.access_token;
  return typeof t === "string" && t !== "" ? t : null;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
