import { afterEach, describe } from "vitest";
import { openBackend } from "../../src/backends/open-backend.ts";
import { connectRedis } from "../../src/backends/redis/client.ts";
import { RedisKeys } from "../../src/backends/redis/keys.ts";
import { createRedisDatastore } from "../../src/backends/redis/redis-datastore.ts";
import { createRedisQueue } from "../../src/backends/redis/redis-queue.ts";
import { serviceUrl, uniqueNamespace } from "../helpers/services.ts";
import { describeDatastore } from "./datastore.suite.ts";
import { describeFleet, type OpenedFleet } from "./fleet.suite.ts";
import { describeQueue } from "./queue.suite.ts";

const url = await serviceUrl("redis");
const used: string[] = [];
/** A fresh key prefix for one test's store; afterEach deletes its keys, so nothing is left behind. */
const fresh = (): string => {
  used.push(uniqueNamespace());
  return used.at(-1) ?? "";
};

// Skipped only when Redis is not running and CI is not set (serviceUrl fails the run under CI=true).
describe.skipIf(url === null)("redis", () => {
  const u = url ?? "";
  afterEach(async () => {
    const admin = await connectRedis(u);
    for (const prefix of used.splice(0))
      for await (const keys of admin.scanIterator({ MATCH: new RedisKeys(prefix).pattern, COUNT: 1000 }))
        if (keys.length > 0) await admin.del(keys);
    await admin.close();
  });
  describeDatastore({
    name: "redis",
    create: () => createRedisDatastore({ url: u, prefix: fresh() }),
    keepsIdempotencyKeys: "a Redis idempotency key is found by its hash, not by uuid: it expires with its TTL",
  });
  describeQueue({ name: "redis", create: (clock) => createRedisQueue({ url: u, prefix: fresh(), clock }) });
  /** A backend on `prefix`; its peer is another backend on the same prefix, as another process would open. */
  const fleetOn = async (prefix: string): Promise<OpenedFleet> => {
    const at = new URL(u);
    at.searchParams.set("prefix", prefix);
    const backend = await openBackend({ datastore: at.toString(), queue: at.toString() });
    return { fleet: backend.fleet, close: () => backend.close(), openPeer: () => fleetOn(prefix) };
  };
  describeFleet({ name: "redis", create: () => fleetOn(fresh()) });
});
