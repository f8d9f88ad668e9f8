import type { Clock } from "../../internal/clock.ts";
import { openSqliteConnection, type SqliteConnection, type SqliteConnectionOptions } from "./connection.ts";
import { SqliteDatastore } from "./sqlite-datastore.ts";
import { SqliteFleetStore } from "./sqlite-fleet.ts";
import { SqliteQueue } from "./sqlite-queue.ts";

export interface OpenSqliteOptions extends SqliteConnectionOptions {
  /** Source of every stored queue time. @defaultValue systemClock */
  clock?: Clock;
  /** See SqliteQueueOptions.pollMs. @defaultValue 50 */
  pollMs?: number;
}

/** A datastore, a queue and the fleet sharing one SQLite file and one group-commit connection. */
export interface SqliteStore {
  readonly datastore: SqliteDatastore;
  readonly queue: SqliteQueue;
  /** Uses the connection without holding it open: it ends with the store. */
  readonly fleet: SqliteFleetStore;
  /** The shared connection, e.g. to read its group-commit stats. */
  readonly connection: SqliteConnection;
  /** Ends pending reserves, commits pending writes and closes the file. */
  close(): Promise<void>;
}

/** Opens (creating when missing) the SQLite store at `opts.path`, or ":memory:". */
export function openSqlite(opts: OpenSqliteOptions): SqliteStore {
  const { clock, pollMs, ...connOpts } = opts;
  const connection = openSqliteConnection(connOpts);
  const datastore = new SqliteDatastore(connection);
  const queue = new SqliteQueue(connection, {
    ...(clock === undefined ? {} : { clock }),
    ...(pollMs === undefined ? {} : { pollMs }),
  });
  return {
    datastore,
    queue,
    fleet: new SqliteFleetStore(connection),
    connection,
    async close() {
      await queue.close();
      await datastore.close();
    },
  };
}
