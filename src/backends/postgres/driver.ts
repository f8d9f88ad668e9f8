import type { BackendDriver } from "../../contracts/driver.ts";
import { splitNamespace } from "../../contracts/namespace.ts";

/** A parsed `postgres://` URL: `url` without ZeroG's own `schema` parameter, as the driver takes it. */
export interface PostgresUrl {
  scheme: "postgres";
  url: string;
  schema: string;
}

/** The tables of one PostgreSQL schema. The pg package loads only when such a URL is opened. */
export const postgresDriver: BackendDriver<PostgresUrl> = {
  name: "postgres",
  schemes: ["postgres:", "postgresql:"],
  example: "postgres://user@host:5432/db[?schema=zerog]",
  provides: { datastore: true, queue: true, fleet: true },
  capabilities: { oneTransaction: true, multiProcess: true, notifications: "cross-process", listing: "indexed" },
  parseUrl: (url) => {
    const { driverUrl, namespace } = splitNamespace(url, "schema");
    return { scheme: "postgres", url: driverUrl, schema: namespace };
  },
  sameStore: (a, b) => a.url === b.url && a.schema === b.schema,
  open: async (config, opts) => {
    const { openPostgresBackend } = await import("./postgres-backend.ts");
    return openPostgresBackend({ url: config.url, schema: config.schema, ...opts });
  },
};
