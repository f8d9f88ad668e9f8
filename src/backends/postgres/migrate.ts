import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";
import { isTimeoutError, toZeroGError } from "./errors.ts";
import { checkSchema } from "./pool.ts";

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
/** `NNN-what.sql`: the number orders them and is what zerog_migrations records. */
const MIGRATION_FILE = /^(\d+)-[\w-]+\.sql$/;
/**
 * A migration may rewrite a large table, or wait on the lock while another server runs one:
 * far longer than the pool's per-call limit (`timeoutMs`). Its statements get 10 minutes each,
 * on the client and on the server, so a frozen server still cannot hang start-up forever.
 */
const MIGRATION_TIMEOUT_MS = 10 * 60_000;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration shipped with this build, in order. */
export function listMigrations(): Migration[] {
  const found: Migration[] = [];
  for (const name of readdirSync(MIGRATIONS_DIR)) {
    const m = MIGRATION_FILE.exec(name);
    if (!m?.[1]) continue;
    found.push({ version: Number(m[1]), name, sql: readFileSync(new URL(name, MIGRATIONS_DIR), "utf8") });
  }
  return found.sort((a, b) => a.version - b.version);
}

/**
 * Brings `schema` up to date; returns the versions this call applied (empty when another
 * server got there first). One transaction under an advisory lock keyed by the schema: servers
 * starting together queue on the lock, and each later one finds the work done. A failing
 * migration rolls back whole, its record included.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<number[]> {
  checkSchema(schema);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toZeroGError(err);
  }
  let broken: Error | undefined;
  const query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
    const config: pg.QueryConfig & { query_timeout: number } = {
      text,
      ...(values ? { values } : {}),
      query_timeout: MIGRATION_TIMEOUT_MS,
    };
    return client.query<R>(config);
  };
  try {
    await query("BEGIN");
    await query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await query("SELECT pg_advisory_xact_lock(hashtext('zerog-migrate:' || $1))", [schema]);
    await query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await query(`SET LOCAL search_path TO ${schema}`);
    await query(
      `CREATE TABLE IF NOT EXISTS zerog_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await query<{ version: number }>("SELECT version FROM zerog_migrations");
    const have = new Set(done.rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of listMigrations()) {
      if (have.has(m.version)) continue;
      await query(m.sql);
      await query("INSERT INTO zerog_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      applied.push(m.version);
    }
    await query("COMMIT");
    return applied;
  } catch (err) {
    // A statement that timed out may still be running: the connection is closed instead (which
    // rolls the transaction back), as a ROLLBACK would queue behind it.
    if (isTimeoutError(err)) broken = err instanceof Error ? err : new Error(String(err));
    else {
      await query("ROLLBACK").catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
    }
    throw toZeroGError(err, MIGRATION_TIMEOUT_MS);
  } finally {
    // A connection that could not even roll back is dropped, not returned to the pool.
    client.release(broken);
  }
}
