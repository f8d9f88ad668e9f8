import { createSqliteDatastore } from "../../src/datastore/sqlite/sqlite-datastore.ts";
import { createSqliteQueue } from "../../src/queue/sqlite/sqlite-queue.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { describeDatastore } from "./datastore.suite.ts";
import { describeQueue } from "./queue.suite.ts";

// A fresh database file per test: the real thing, WAL and all (not ":memory:").
describeDatastore({ name: "sqlite", create: () => createSqliteDatastore({ path: tempDbPath() }) });
describeQueue({ name: "sqlite", create: (clock) => createSqliteQueue({ path: tempDbPath(), clock }) });
