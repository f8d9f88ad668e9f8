import { describe } from "vitest";
import { privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { describeEndToEnd } from "./e2e.suite.ts";

// One private beanstalkd per datastore: the suite's tube names would otherwise meet.
const withSqlite = await privateBeanstalkd();
const withPostgres = await privateBeanstalkd();
const pgBase = await serviceUrl("postgres");
const pg = pgBase === null ? null : namespacedUrl("postgres", pgBase);

// Skipped only when beanstalkd is not installed and CI is not set (privateBeanstalkd fails the run under CI=true).
describe.skipIf(withSqlite === null)("beanstalkd queue", () => {
  if (!withSqlite) return;
  describeEndToEnd({
    name: "beanstalkd queue + sqlite datastore",
    urls: () => ({ datastore: `sqlite:${tempDbPath()}`, queue: withSqlite.url }),
    cleanup: () => withSqlite.destroy(),
  });
});

describe.skipIf(withPostgres === null || pg === null)("beanstalkd queue", () => {
  if (!withPostgres || !pg) return;
  describeEndToEnd({
    name: "beanstalkd queue + postgres datastore",
    urls: () => ({ datastore: pg.url, queue: withPostgres.url }),
    cleanup: async () => {
      await withPostgres.destroy();
      await pg.drop();
    },
  });
});
