import { describe } from "vitest";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { describeEndToEnd } from "./e2e.suite.ts";

const base = await serviceUrl("redis");
const ns = base === null ? null : namespacedUrl("redis", base);

// Skipped only when Redis is not running and CI is not set (serviceUrl fails the run under CI=true).
describe.skipIf(ns === null)("redis", () => {
  if (!ns) return;
  describeEndToEnd({ name: "redis", urls: () => ({ datastore: ns.url, queue: ns.url }), cleanup: ns.drop });
});
