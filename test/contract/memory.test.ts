import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { describeDatastore } from "./datastore.suite.ts";
import { describeFleet } from "./fleet.suite.ts";
import { describeQueue } from "./queue.suite.ts";

describeDatastore({ name: "memory", create: () => new MemoryDatastore() });
describeQueue({ name: "memory", create: (clock) => new MemoryQueue({ clock }) });
describeFleet({
  name: "memory",
  notShared: "a memory backend lives in one process",
  create: () => ({ fleet: new MemoryFleetStore(), close: async () => undefined }),
});
