import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseJob, Server } from "zerog";
import { SeparateBackend } from "../../src/backend/separate-backend.ts";
import { MemoryDatastore } from "../../src/datastore/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/fleet/memory-fleet.ts";
import { MemoryQueue } from "../../src/queue/memory/memory-queue.ts";

/** What /openapi.json (and so /docs) says about each path's parameters and each operation's summary. */

class AlwaysRejectJob extends BaseJob {
  static override jobType = "always_reject";
  static override branch = "checks";
  run() {
    return 400;
  }
}
class ResizeJob extends BaseJob {
  static override jobType = "resize";
  run() {
    return 200;
  }
}
class UploadJob extends BaseJob {
  static override jobType = "Upload";
  run() {
    return 200;
  }
}

interface Parameter {
  name: string;
  in: string;
  description?: string;
}
type Doc = { paths: Record<string, Record<string, { summary?: string; parameters?: Parameter[] }>> };

let server: Server;
let doc: Doc;
beforeAll(async () => {
  const backend = new SeparateBackend(new MemoryDatastore(), new MemoryQueue(), { fleet: new MemoryFleetStore() });
  server = new Server({ jobs: [AlwaysRejectJob, ResizeJob, UploadJob], backend, concurrency: 0 });
  const base = await server.listen({ port: 0, host: "127.0.0.1" });
  const res = await fetch(`${base}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
});
afterAll(async () => {
  await server?.close();
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

describe("/openapi.json: parameters and summaries", () => {
  it("every path parameter is named in its path's template, and each template segment is a parameter", () => {
    for (const { path, method, op } of operations()) {
      const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
      expect(declared, `${method} ${path}`).toEqual(inTemplate);
    }
  });

  it("no summary says 'a' before a vowel: 'Create an always_reject job', 'Create a resize job'", () => {
    const summaries = operations().map(({ path, method, op }) => ({ where: `${method} ${path}`, s: op.summary ?? "" }));
    for (const { where, s } of summaries) expect(s, where).not.toMatch(/\ba [aeiou]/i);
    expect(doc.paths["/job/always_reject"]?.post?.summary).toBe("Create an always_reject job");
    expect(doc.paths["/checks/always_reject/job"]?.post?.summary).toBe("Create an always_reject job");
    expect(doc.paths["/job/Upload"]?.post?.summary).toBe("Create an Upload job");
    expect(doc.paths["/job/resize"]?.post?.summary).toBe("Create a resize job");
  });
});
