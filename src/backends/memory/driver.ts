import type { BackendDriver } from "../../contracts/driver.ts";
import { MemoryDatastore } from "./memory-datastore.ts";
import { MemoryFleetStore } from "./memory-fleet.ts";
import { MemoryQueue } from "./memory-queue.ts";

/** `memory:`, the parsed form. */
export interface MemoryUrl {
  scheme: "memory";
}

/**
 * Plain in-process memory, for tests. Every `memory:` URL is a store of its own, and the two
 * halves are two objects, so `openBackend` joins them in a SeparateBackend: two steps each.
 */
export const memoryDriver: BackendDriver<MemoryUrl> = {
  name: "memory",
  schemes: ["memory:"],
  example: "memory:",
  provides: { datastore: true, queue: true, fleet: true },
  capabilities: { oneTransaction: false, multiProcess: false, notifications: "in-process", listing: "scan" },
  parseUrl: () => ({ scheme: "memory" }),
  openDatastore: async () => {
    const datastore = new MemoryDatastore();
    return { datastore, fleet: new MemoryFleetStore(), close: () => datastore.close() };
  },
  openQueue: async (_config, opts) => {
    const queue = new MemoryQueue(opts.clock ? { clock: opts.clock } : {});
    return { queue, close: () => queue.close() };
  },
};
