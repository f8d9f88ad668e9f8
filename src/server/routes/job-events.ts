import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { JobClient } from "../../client/job-client.ts";
import { isZeroGError } from "../../errors.ts";
import { diffDocument, formatSse, startCursor } from "../events/job-stream.ts";
import { JOB_WATCHER_DEFAULTS, JobWatcher, type JobWatcherOptions } from "../events/job-watcher.ts";
import { checkedUuid } from "./uuid.ts";

export interface JobEventsOptions extends JobWatcherOptions {
  /** A `: keep-alive` comment this often keeps proxies from closing a quiet stream. @defaultValue 15000 */
  heartbeatMs?: number;
  /** Sent as the stream's `retry:` line: how long an EventSource waits before reconnecting. @defaultValue 1000 */
  retryMs?: number;
}

export const JOB_EVENTS_DEFAULTS = {
  ...JOB_WATCHER_DEFAULTS,
  heartbeatMs: 15_000,
  retryMs: 1000,
} as const satisfies Required<JobEventsOptions>;

const watchers = new WeakMap<FastifyInstance, JobWatcher>();

/** The app's shared poller (tests read its `reads` and `watching`). */
export function jobWatcherOf(app: FastifyInstance): JobWatcher | undefined {
  return watchers.get(app);
}

type EventsRoute = { Params: { uuid: string }; Querystring: { lastEventId?: string } };

/**
 * `GET /events/{uuid}`: Server-Sent Events with the job's progress, new log entries and, last,
 * its result; then the stream closes. One shared JobWatcher reads each watched job from the
 * datastore once per `pollMs`, so a job run by any server is streamed by every server. Returns
 * the watcher (its `reads` counter is what tests check to see polling stop).
 */
export function registerEventRoutes(app: FastifyInstance, client: JobClient, opts: JobEventsOptions = {}): JobWatcher {
  const o = { ...JOB_EVENTS_DEFAULTS, ...opts };
  const watcher = new JobWatcher(async (uuid) => {
    try {
      return await client.get(uuid);
    } catch (err) {
      if (isZeroGError(err, "ZEROG_JOB_NOT_FOUND")) return null;
      throw err;
    }
  }, o);
  watchers.set(app, watcher);
  const open = new Set<ServerResponse>();
  // Before the HTTP server closes: it waits for open connections, and a stream never ends by itself.
  app.addHook("preClose", async () => {
    watcher.close();
    for (const res of open) res.end();
  });

  app.get<EventsRoute>("/events/:uuid", { config: { guard: "read", queryToken: true } }, async (req, reply) => {
    const uuid = checkedUuid(req.params.uuid);
    const first = await client.get(uuid); // 404 as JSON, before the stream starts
    const header = req.headers["last-event-id"];
    const cursor = startCursor((Array.isArray(header) ? header[0] : header) ?? req.query.lastEventId);

    reply.hijack();
    const res = reply.raw;
    const socket = req.raw.socket;
    res.writeHead(200, {
      ...headersSoFar(reply), // CORS, set by its onRequest hook
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no", // nginx: do not buffer the stream
    });
    res.write(`retry: ${o.retryMs}\n\n`);
    open.add(res);

    let stop = (): void => undefined;
    const write = (text: string): void => {
      if (!res.writableEnded && !res.destroyed) res.write(text);
    };
    // A write racing a dropped connection fails; the "close" handler below cleans up.
    res.on("error", () => undefined);
    const heartbeat = setInterval(() => write(": keep-alive\n\n"), o.heartbeatMs);
    const end = (): void => {
      stop();
      clearInterval(heartbeat);
      open.delete(res);
      if (!res.writableEnded) res.end();
    };
    res.on("close", () => {
      // Closed before the stream's end: the client went away. Stop reading its job, and make sure
      // the socket is gone (a half-closed one would keep the server's close() waiting).
      if (!res.writableFinished) socket.destroy();
      end();
    });

    const send = (doc: Parameters<typeof diffDocument>[1]): void => {
      for (const m of diffDocument(cursor, doc)) write(formatSse(m));
      if (cursor.done) end();
    };
    send(first);
    if (!cursor.done) stop = watcher.watch(uuid, send);
  });
  return watcher;
}

/** The headers hooks set on the reply before it was hijacked, without unset ones. */
function headersSoFar(reply: FastifyReply): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) out[k] = v;
  return out;
}
