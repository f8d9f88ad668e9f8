import pg from "pg";
import { afterAll, describe } from "vitest";
import { createPostgresDatastore } from "../../src/datastore/postgres/postgres-datastore.ts";
import { createPostgresQueue } from "../../src/queue/postgres/postgres-queue.ts";
import { serviceUrl, uniqueNamespace } from "../helpers/services.ts";
import { describeDatastore } from "./datastore.suite.ts";
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
  afterAll(async () => {
    const client = new pg.Client(u);
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  });
});
