import { openBackend } from "../../src/backends/open-backend.ts";
import { createSqliteDatastore } from "../../src/backends/sqlite/sqlite-datastore.ts";
import { createSqliteQueue } from "../../src/backends/sqlite/sqlite-queue.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { describeDatastore } from "./datastore.suite.ts";
import { describeFleet, type OpenedFleet } from "./fleet.suite.ts";
import { describeQueue } from "./queue.suite.ts";

// A fresh database file per test: the real thing, WAL and all (not ":memory:").
describeDatastore({ name: "sqlite", create: () => createSqliteDatastore({ path: tempDbPath() }) });
describeQueue({ name: "sqlite", create: (clock) => createSqliteQueue({ path: tempDbPath(), clock }) });

/** A backend on the file at `path`; its peer is another backend opened on the same file, as another process would. */
async function fleetOn(path: string): Promise<OpenedFleet> {
  const backend = await openBackend({ datastore: `sqlite:${path}`, queue: `sqlite:${path}` });
  return { fleet: backend.fleet, close: () => backend.close(), openPeer: () => fleetOn(path) };
}
describeFleet({ name: "sqlite", create: () => fleetOn(tempDbPath()) });
