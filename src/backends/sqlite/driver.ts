import { resolve } from "node:path";
import type { BackendDriver } from "../../contracts/driver.ts";
import { BackendDownError, InvalidConfigError } from "../../errors.ts";
import { SqliteBackend } from "./sqlite-backend.ts";
import { openSqlite } from "./sqlite-store.ts";

/** `sqlite:./file.db`, `sqlite:/abs.db`, `sqlite:///abs.db` or `sqlite::memory:`, parsed. */
export interface SqliteUrl {
  scheme: "sqlite";
  path: string;
}

/** SQLite result codes that mean the store cannot serve now, not that the request is wrong. */
const UNAVAILABLE_SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY)/;

/** One SQLite file holding the documents, the queue and the fleet. */
export const sqliteDriver: BackendDriver<SqliteUrl> = {
  name: "sqlite",
  schemes: ["sqlite:"],
  example: "sqlite:./file.db (or sqlite::memory:)",
  provides: { datastore: true, queue: true, fleet: true },
  capabilities: { oneTransaction: true, multiProcess: true, notifications: "in-process", listing: "indexed" },
  parseUrl: (url) => {
    const rest = url.slice(url.indexOf(":") + 1);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (path === "") throw new InvalidConfigError(`backend URL '${url}' has no file path (e.g. sqlite:./zerog.db)`);
    return { scheme: "sqlite", path };
  },
  // One file however spelled; each `:memory:` is a database of its own.
  sameStore: (a, b) => a.path === b.path || (a.path !== ":memory:" && resolve(a.path) === resolve(b.path)),
  mapError: (err) => {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === "string" && UNAVAILABLE_SQLITE_CODES.test(code)
      ? new BackendDownError("sqlite", err)
      : undefined;
  },
  open: async (config, opts) => new SqliteBackend(openSqlite({ path: config.path, ...opts })),
};
