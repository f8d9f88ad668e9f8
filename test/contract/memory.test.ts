import { MemoryDatastore } from "../../src/datastore/memory/memory-datastore.ts";
import { MemoryQueue } from "../../src/queue/memory/memory-queue.ts";
import { describeDatastore } from "./datastore.suite.ts";
import { describeQueue } from "./queue.suite.ts";

describeDatastore({ name: "memory", create: () => new MemoryDatastore() });
describeQueue({ name: "memory", create: (clock) => new MemoryQueue({ clock }) });
