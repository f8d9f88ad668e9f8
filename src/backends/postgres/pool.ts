import pg from "pg";
import { ClosedError, InvalidConfigError } from "../../errors.ts";
import { toZeroGError } from "./errors.ts";

export interface PgPoolOptions {
  /** postgres://user@host:port/db */
  url: string;
  /** Schema holding ZeroG's tables; lowercase letters, digits and `_`. @defaultValue "zerog" */
  schema?: string;
  /** Most connections this pool opens. @defaultValue 10 */
  poolSize?: number;
  /**
   * Longest a call may wait for a connection (a connect included), and then for its answer.
   * Past it the call fails with BackendStalledError (503) and its connection is closed. Also the
   * URL parameter `timeoutMs`; this option wins over it. @defaultValue 5000
   */
  timeoutMs?: number;
}

/**
 * 5 s: pg waits forever by default, for a connection and for an answer. A healthy server
 * answers ZeroG's statements in milliseconds, so 5 s means it is stalled or unreachable, and
 * the HTTP API answers 503 before most clients' and load balancers' own limits (often 10-60 s).
 */
export const PG_TIMEOUT_MS = 5000;

export const PG_POOL_DEFAULTS = { schema: "zerog", poolSize: 10, timeoutMs: PG_TIMEOUT_MS } as const satisfies Omit<
  Required<PgPoolOptions>,
  "url"
>;

/** ZeroG's own URL parameter for the time limit of every call (the driver never sees it). */
const TIMEOUT_PARAM = "timeoutMs";
/** Idle connections close after 30 s, so a burst's extra connections do not linger. */
const IDLE_TIMEOUT_MS = 30_000;
/** Unquoted, so it can go in `-c search_path=` and a channel name; 48 leaves room for the channel's prefix. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;
const INT8_OID = 20;

/** bigint (ms times, ids, counts) as a JS number: all stay far below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)),
};

/** Anything that runs a query: the pool or one of its clients. */
export type Queryable = Pick<pg.Pool, "query">;

/** A statement run by name, so each connection parses and plans it once. */
export interface Statement {
  name: string;
  text: string;
}

/** Checks a schema name; InvalidConfigError with the rule when it breaks it. */
export function checkSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidConfigError(`postgres schema '${schema}' must match ${SCHEMA_NAME} (lowercase, unquoted)`);
  }
  return schema;
}

/**
 * `url` without ZeroG's `timeoutMs` parameter, and that parameter's value (undefined when it is
 * absent). A URL that does not parse is returned as it is, for pg to report.
 */
export function splitTimeout(url: string): { url: string; timeoutMs: number | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, timeoutMs: undefined };
  }
  const raw = parsed.searchParams.get(TIMEOUT_PARAM);
  if (raw === null) return { url, timeoutMs: undefined };
  parsed.searchParams.delete(TIMEOUT_PARAM);
  return { url: parsed.toString(), timeoutMs: checkTimeoutMs(Number(raw), raw) };
}

/** `url` with its `timeoutMs` parameter set to `timeoutMs`. */
function withTimeout(url: string, timeoutMs: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // pg reports it
  }
  parsed.searchParams.set(TIMEOUT_PARAM, String(timeoutMs));
  return parsed.toString();
}

/** A time limit must be a whole number of milliseconds, at least 1. */
export function checkTimeoutMs(ms: number, shown: string = String(ms)): number {
  if (!Number.isInteger(ms) || ms < 1) {
    throw new InvalidConfigError(
      `postgres ${TIMEOUT_PARAM} '${shown}' must be a whole number of milliseconds, 1 or more`,
    );
  }
  return ms;
}

/**
 * Connection settings shared by the pool and the LISTEN connection: search_path, number parsing,
 * and the time limit (the URL's `timeoutMs`, else PG_TIMEOUT_MS) on connecting and on every query.
 */
export function clientConfig(url: string, schema: string): pg.ClientConfig {
  const split = splitTimeout(url);
  const limitMs = split.timeoutMs ?? PG_POOL_DEFAULTS.timeoutMs;
  return {
    connectionString: split.url,
    // Set at connection start-up: no extra round trip, and every connection gets it.
    // Generic plans: ZeroG's statements are prepared by name and written to plan well without
    // their parameters (primary-key lookups through = ANY (ARRAY (…))). Left to choose,
    // PostgreSQL re-plans the CTE statements at each run (planning a reserve took longer than
    // running it); forcing the cached plan measured ~1.3x the jobs/s here.
    // statement_timeout: the server, too, abandons a statement its caller has stopped waiting
    // for, so a slow (not frozen) server does not apply it long after the caller got a 503.
    options: `-c search_path=${checkSchema(schema)} -c plan_cache_mode=force_generic_plan -c statement_timeout=${limitMs}`,
    types: TYPES,
    connectionTimeoutMillis: limitMs,
    // pg's own timer per query. A query that times out on a pooled connection has its connection
    // closed (pool.query releases it with the error): its answer may still arrive, and must not
    // reach the next query.
    query_timeout: limitMs,
    keepAlive: true,
    // Names the schema, so an operator (or a test) can tell this process's connections apart.
    application_name: `zerog:${schema}`,
  };
}

/**
 * A pg Pool for one ZeroG schema, shared by a datastore and a queue; counted like
 * SqliteConnection, so the last user to release it ends it.
 */
export class PgPool {
  readonly pool: pg.Pool;
  readonly url: string;
  readonly schema: string;
  /** NOTIFY channel for ready entries of this schema (one per schema, so tests in parallel do not cross). */
  readonly channel: string;
  /** The time limit of every call (see PgPoolOptions.timeoutMs). */
  readonly timeoutMs: number;
  #users = 0;
  #closed = false;

  constructor(opts: PgPoolOptions) {
    const o = { ...PG_POOL_DEFAULTS, ...opts };
    const split = splitTimeout(o.url);
    this.timeoutMs = checkTimeoutMs(opts.timeoutMs ?? split.timeoutMs ?? PG_POOL_DEFAULTS.timeoutMs);
    // The LISTEN connection is configured from `url` (clientConfig): it carries the same limit.
    this.url = opts.timeoutMs === undefined ? o.url : withTimeout(split.url, this.timeoutMs);
    this.schema = checkSchema(o.schema);
    this.channel = `zerog_ready_${this.schema}`;
    this.pool = new pg.Pool({
      ...clientConfig(this.url, o.schema),
      max: o.poolSize,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
    });
    // An idle connection that drops (server restart) is discarded by the pool; without a
    // listener, its 'error' event would crash the process. The next query opens a new one.
    this.pool.on("error", () => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `stmt` (prepared per connection) with `values`. The wait for a connection (a connect
   * included) and the wait for the answer each get `timeoutMs` (pg's `connectionTimeoutMillis`
   * and `query_timeout`); past either the call fails with BackendStalledError, other connection
   * failures with BackendDownError. A pooled connection whose query failed is closed by
   * pool.query, not reused: after a timeout its late answer must not reach the next query. A
   * caller that passes a client of its own (`db`) must release it with the error likewise.
   */
  async run<R extends pg.QueryResultRow>(stmt: Statement, values: unknown[], db: Queryable = this.pool): Promise<R[]> {
    if (this.#closed) throw new ClosedError("postgres pool");
    try {
      const res = await db.query<R>({ name: stmt.name, text: stmt.text, values });
      return res.rows;
    } catch (err) {
      throw toZeroGError(err, this.timeoutMs);
    }
  }

  /** Counts one more user (a datastore, a queue). */
  retain(): void {
    this.#users++;
  }

  /** One user is done; the last one ends the pool. */
  async release(): Promise<void> {
    this.#users--;
    if (this.#users <= 0) await this.close();
  }

  /** Ends every connection (in-flight queries finish first). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
