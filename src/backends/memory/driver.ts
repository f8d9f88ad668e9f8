import type { BackendDriver } from "../../contracts/driver.ts";
import { SeparateBackend } from "../separate-backend.ts";
import { MemoryDatastore } from "./memory-datastore.ts";
import { MemoryFleetStore } from "./memory-fleet.ts";
import { MemoryQueue } from "./memory-queue.ts";

/** `memory:`, the parsed form. */
export interface MemoryUrl {
  scheme: "memory";
}

/** Plain in-process memory, for tests: every `memory:` URL is a store of its own. */
export const memoryDriver: BackendDriver<MemoryUrl> = {
  name: "memory",
  schemes: ["memory:"],
  example: "memory:",
  provides: { datastore: true, queue: true, fleet: true },
  // Two steps each: the memory datastore and queue are two objects, joined by SeparateBackend.
  capabilities: { oneTransaction: false },
  parseUrl: () => ({ scheme: "memory" }),
  open: async (_config, opts) => {
    const clock = opts.clock ? { clock: opts.clock } : {};
    return new SeparateBackend(new MemoryDatastore(), new MemoryQueue(clock), {
      ...clock,
      fleet: new MemoryFleetStore(),
    });
  },
};
