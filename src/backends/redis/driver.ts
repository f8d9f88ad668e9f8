import type { BackendDriver } from "../../contracts/driver.ts";
import { splitNamespace } from "../../contracts/namespace.ts";

/** A parsed `redis://` URL: `url` without ZeroG's own `prefix` parameter, as the driver takes it. */
export interface RedisUrl {
  scheme: "redis";
  url: string;
  prefix: string;
}

/** The keys under one prefix on a Redis server. The redis package loads only when such a URL is opened. */
export const redisDriver: BackendDriver<RedisUrl> = {
  name: "redis",
  schemes: ["redis:", "rediss:"],
  example: "redis://host:6379[/db][?prefix=zerog]",
  provides: { datastore: true, queue: true, fleet: true },
  capabilities: { oneTransaction: true, multiProcess: true, notifications: "cross-process", listing: "indexed" },
  parseUrl: (url) => {
    const { driverUrl, namespace } = splitNamespace(url, "prefix");
    return { scheme: "redis", url: driverUrl, prefix: namespace };
  },
  sameStore: (a, b) => a.url === b.url && a.prefix === b.prefix,
  open: async (config, opts) => {
    const { openRedisBackend } = await import("./redis-backend.ts");
    return openRedisBackend({ url: config.url, prefix: config.prefix, ...opts });
  },
};
