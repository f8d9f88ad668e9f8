import { ErrorReply } from "redis";
import { BackendDownError, ZeroGError } from "../../errors.ts";

/**
 * Server replies that mean "Redis cannot serve now", not "this request is wrong": loading a
 * dataset, a script running too long, a replica without its master, out of memory, read-only.
 */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b/;

/**
 * The one mapping from node-redis failures to ZeroG errors: anything about the connection
 * (refused, dropped, offline, closed, timed out) and the replies above become
 * BackendDownError, which the HTTP API answers with 503. Other error replies are bugs (a
 * script error, a wrong key type) and pass through unchanged, as do ZeroG's own errors.
 */
export function mapRedisError(err: unknown): unknown {
  if (err instanceof ZeroGError) return err;
  if (err instanceof ErrorReply && !UNAVAILABLE_REPLY.test(err.message)) return err;
  return new BackendDownError("redis", err);
}
