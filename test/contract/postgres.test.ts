import pg from "pg";
import { afterAll, describe } from "vitest";
import { openBackend } from "../../src/backends/open-backend.ts";
import { createPostgresDatastore } from "../../src/backends/postgres/postgres-datastore.ts";
import { createPostgresQueue } from "../../src/backends/postgres/postgres-queue.ts";
import { serviceUrl, uniqueNamespace } from "../helpers/services.ts";
import { describeDatastore } from "./datastore.suite.ts";
import { describeFleet, type OpenedFleet } from "./fleet.suite.ts";
import { describeQueue } from "./queue.suite.ts";

const url = await serviceUrl("postgres");
/** Every schema a test made; all dropped at the end, so nothing is left behind. */
const schemas: string[] = [];
const fresh = (): string => {
  const schema = uniqueNamespace();
  schemas.push(schema);
  return schema;
};

describe.skipIf(url === null)("postgres (fresh schema per test)", () => {
  const u = url ?? "";
  describeDatastore({ name: "postgres", create: () => createPostgresDatastore({ url: u, schema: fresh() }) });
  describeQueue({ name: "postgres", create: (clock) => createPostgresQueue({ url: u, schema: fresh(), clock }) });
  /** A backend on `schema`; its peer is another backend on the same schema, as another process would open. */
  const fleetOn = async (schema: string): Promise<OpenedFleet> => {
    const at = new URL(u);
    at.searchParams.set("schema", schema);
    const backend = await openBackend({ datastore: at.toString(), queue: at.toString() });
    return { fleet: backend.fleet, close: () => backend.close(), openPeer: () => fleetOn(schema) };
  };
  describeFleet({ name: "postgres", create: () => fleetOn(fresh()) });
  afterAll(async () => {
    const client = new pg.Client(u);
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  });
});
