import { afterAll, describe } from "vitest";
import { openBackend } from "../../src/backends/open-backend.ts";
import { privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { freshUrls } from "../helpers/fresh-urls.ts";
import { serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { describeBackend } from "./backend.suite.ts";

// The backend suite on every backend and datastore + queue pair, each opened as the server
// opens it (openBackend). A missing service skips its part with a printed reason, and fails
// the run under CI=true (serviceUrl, privateBeanstalkd).
const [pgBase, redisBase, beanstalkd] = await Promise.all([
  serviceUrl("postgres"),
  serviceUrl("redis"),
  privateBeanstalkd(),
]);
afterAll(() => beanstalkd?.destroy());
const pg = freshUrls("postgres", pgBase);
const redis = freshUrls("redis", redisBase);
/** Beanstalkd tubes are not namespaced: each test gets an empty server. */
const tubes = async (): Promise<string> => {
  await beanstalkd?.restart();
  return beanstalkd?.url ?? "";
};
const TWO = "datastore and queue are two stores (SeparateBackend)";
const NO_FAST_PATH = "SeparateBackend has no reserveJob: the worker reads the document itself";
const BEANSTALK_TIME = "real" as const;

describeBackend({
  name: "memory",
  open: (clock) => openBackend({ datastore: "memory:", queue: "memory:" }, { clock }),
  separateStores: "the memory backend is a SeparateBackend over a memory datastore and queue",
  withoutReserveJob: NO_FAST_PATH,
});
describeBackend({
  name: "sqlite",
  open: (clock) => {
    const url = `sqlite:${tempDbPath()}`;
    return openBackend({ datastore: url, queue: url }, { clock });
  },
  withoutReserveJob: "SqliteBackend has no reserveJob: a local read is as fast as the fast path",
});
describe.skipIf(pgBase === null)("postgres", () => {
  describeBackend({
    name: "postgres",
    open: (clock) => {
      const url = pg();
      return openBackend({ datastore: url, queue: url }, { clock });
    },
  });
});
describe.skipIf(redisBase === null)("redis", () => {
  describeBackend({
    name: "redis",
    open: (clock) => {
      const url = redis();
      return openBackend({ datastore: url, queue: url }, { clock });
    },
  });
});
describe.skipIf(pgBase === null || redisBase === null)("postgres + redis", () => {
  describeBackend({
    name: "postgres datastore + redis queue",
    open: (clock) => openBackend({ datastore: pg(), queue: redis() }, { clock, reconciler: false }),
    separateStores: TWO,
    withoutReserveJob: NO_FAST_PATH,
  });
  describeBackend({
    name: "redis datastore + postgres queue",
    open: (clock) => openBackend({ datastore: redis(), queue: pg() }, { clock, reconciler: false }),
    separateStores: TWO,
    withoutReserveJob: NO_FAST_PATH,
  });
});
describe.skipIf(pgBase === null)("sqlite + postgres", () => {
  describeBackend({
    name: "sqlite datastore + postgres queue",
    open: (clock) => openBackend({ datastore: `sqlite:${tempDbPath()}`, queue: pg() }, { clock, reconciler: false }),
    separateStores: TWO,
    withoutReserveJob: NO_FAST_PATH,
  });
});
describe.skipIf(beanstalkd === null)("beanstalkd queue", () => {
  describeBackend({
    name: "sqlite datastore + beanstalkd queue",
    open: async (clock) =>
      openBackend({ datastore: `sqlite:${tempDbPath()}`, queue: await tubes() }, { clock, reconciler: false }),
    time: BEANSTALK_TIME,
    separateStores: TWO,
    withoutReserveJob: NO_FAST_PATH,
  });
  describeBackend({
    name: "memory datastore + beanstalkd queue",
    open: async (clock) => openBackend({ datastore: "memory:", queue: await tubes() }, { clock, reconciler: false }),
    time: BEANSTALK_TIME,
    separateStores: TWO,
    withoutReserveJob: NO_FAST_PATH,
  });
});
describe.skipIf(beanstalkd === null || pgBase === null)("postgres + beanstalkd", () => {
  describeBackend({
    name: "postgres datastore + beanstalkd queue",
    open: async (clock) => openBackend({ datastore: pg(), queue: await tubes() }, { clock, reconciler: false }),
    time: BEANSTALK_TIME,
    separateStores: TWO,
    withoutReserveJob: NO_FAST_PATH,
  });
});
