import { BackendDownError, BackendStalledError } from "../../errors.ts";

/** Socket-level failures: the server is not there, or went away mid-call. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs meaning "no usable server" rather than "bad statement": admin/crash shutdown,
 * not accepting connections yet (starting up, recovering), too many connections.
 * Class 08 (connection exception) is matched by prefix.
 */
const SERVER_DOWN_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** Messages pg raises without a code when a connection is lost or never made. */
const DOWN_MESSAGE = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable/i;

/**
 * No answer in time: pg's query_timeout ("Query read timeout"), its connect timeout (also met
 * while every pooled connection is busy), or the server's statement_timeout (57014, "canceling
 * statement due to statement timeout"; a user's cancel is 57014 too, but ZeroG sends none).
 */
const STALLED_MESSAGE = /Query read timeout|timeout exceeded when trying to connect|due to connection timeout/i;
const QUERY_CANCELED = "57014";

/** Whether `err` says the PostgreSQL server is unreachable (as opposed to a query failing). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof AggregateError && err.errors.some(isConnectionError)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code) || SERVER_DOWN_SQLSTATES.has(code) || code.startsWith("08")) return true;
  }
  return DOWN_MESSAGE.test(err.message);
}

/** Whether `err` says the server did not answer within the time limit. */
export function isTimeoutError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (err as { code?: unknown }).code === QUERY_CANCELED || STALLED_MESSAGE.test(err.message);
}

/**
 * The one mapping from pg errors to ZeroG's: a call past its time limit (`timeoutMs`, when
 * known) becomes BackendStalledError, other connection failures BackendDownError (both HTTP 503).
 */
export function toZeroGError(err: unknown, timeoutMs?: number): unknown {
  if (timeoutMs !== undefined && isTimeoutError(err)) return new BackendStalledError("postgres", timeoutMs, err);
  return isConnectionError(err) ? new BackendDownError("postgres", err) : err;
}
