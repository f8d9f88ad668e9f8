import pg from "pg";
import { ClosedError, InvalidConfigError } from "../errors.ts";
import { toZeroGError } from "./errors.ts";

export interface PgPoolOptions {
  /** postgres://user@host:port/db */
  url: string;
  /** Schema holding ZeroG's tables; lowercase letters, digits and `_`. @defaultValue "zerog" */
  schema?: string;
  /** Most connections this pool opens. @defaultValue 10 */
  poolSize?: number;
}

export const PG_POOL_DEFAULTS = { schema: "zerog", poolSize: 10 } as const satisfies Omit<
  Required<PgPoolOptions>,
  "url"
>;

/**
 * pg waits forever for a connection by default; 5 s fails a call against a black-holed server
 * soon enough for the HTTP API to answer 503, and is far above a healthy connect (~ms).
 */
const CONNECT_TIMEOUT_MS = 5000;
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

/** Connection settings shared by the pool and the LISTEN connection: search_path and number parsing. */
export function clientConfig(url: string, schema: string): pg.ClientConfig {
  return {
    connectionString: url,
    // Set at connection start-up: no extra round trip, and every connection gets it.
    // Generic plans: ZeroG's statements are prepared by name and written to plan well without
    // their parameters (primary-key lookups through = ANY (ARRAY (…))). Left to choose,
    // PostgreSQL re-plans the CTE statements at each run (planning a reserve took longer than
    // running it); forcing the cached plan measured ~1.3x the jobs/s here.
    options: `-c search_path=${checkSchema(schema)} -c plan_cache_mode=force_generic_plan`,
    types: TYPES,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
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
  #users = 0;
  #closed = false;

  constructor(opts: PgPoolOptions) {
    const o = { ...PG_POOL_DEFAULTS, ...opts };
    this.url = o.url;
    this.schema = checkSchema(o.schema);
    this.channel = `zerog_ready_${this.schema}`;
    this.pool = new pg.Pool({ ...clientConfig(o.url, o.schema), max: o.poolSize, idleTimeoutMillis: IDLE_TIMEOUT_MS });
    // An idle connection that drops (server restart) is discarded by the pool; without a
    // listener, its 'error' event would crash the process. The next query opens a new one.
    this.pool.on("error", () => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `stmt` (prepared per connection) with `values`; connection failures become BackendDownError. */
  async run<R extends pg.QueryResultRow>(stmt: Statement, values: unknown[], db: Queryable = this.pool): Promise<R[]> {
    if (this.#closed) throw new ClosedError("postgres pool");
    try {
      const res = await db.query<R>({ name: stmt.name, text: stmt.text, values });
      return res.rows;
    } catch (err) {
      throw toZeroGError(err);
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
