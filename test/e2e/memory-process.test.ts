import { describeEndToEnd } from "./e2e.suite.ts";

// The whole outcome table again with every job in a child process: the same answers, whatever runs them.
describeEndToEnd({ name: "memory", urls: () => ({ datastore: "memory:", queue: "memory:" }), isolation: "process" });
