import { describe } from "vitest";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { describeEndToEnd } from "./e2e.suite.ts";

const base = await serviceUrl("postgres");
const ns = base === null ? null : namespacedUrl("postgres", base);

// Skipped only when PostgreSQL is not running and CI is not set (serviceUrl fails the run under CI=true).
describe.skipIf(ns === null)("postgres", () => {
  if (!ns) return;
  describeEndToEnd({ name: "postgres", urls: () => ({ datastore: ns.url, queue: ns.url }), cleanup: ns.drop });
});
