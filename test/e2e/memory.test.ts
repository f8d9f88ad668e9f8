import { describeEndToEnd } from "./e2e.suite.ts";

describeEndToEnd({ name: "memory", urls: () => ({ datastore: "memory:", queue: "memory:" }) });
