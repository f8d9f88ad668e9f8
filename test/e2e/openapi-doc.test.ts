import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseJob, Server } from "zerog";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { routeGuardsOf } from "../../src/server/route-guards.ts";

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

/**
 * What a path parameter is, by the name the route registered with Fastify gives it: its
 * description must say so, and say nothing of the others. A new parameter name needs a row here.
 */
const MEANING: Record<string, RegExp> = {
  uuid: /\buuid\b/i,
  jobType: /\bjob type\b/i,
  id: /\bworker id\b/i,
  host: /\bhost name\b/i,
};

/** `/job/:uuid/kill` and `/job/{uuid}/kill` → `/job/{}/kill`: OpenAPI counts these as one path. */
const shapeOf = (path: string) => path.replace(/:[A-Za-z0-9_]+|\{[^}]+\}/g, "{}");
const namesIn = (url: string) => [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);

/** The app's routes with path parameters, as Fastify registered them (not the document's view of them). */
const paramRoutes = () =>
  routeGuardsOf(server.app).filter((r) => r.url.includes(":") && !r.url.includes("*") && r.method !== "HEAD");

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

  it("every route with path parameters is documented, under the path of its shape", () => {
    const documented = new Set(operations().map(({ path, method }) => `${method} ${shapeOf(path)}`));
    const routes = paramRoutes();
    expect(routes.map((r) => r.url)).toEqual(
      expect.arrayContaining(["/job/:jobType", "/job/:uuid", "/job/:uuid/kill"]),
    );
    for (const r of routes) expect(documented, `${r.method} ${r.url}`).toContain(`${r.method} ${shapeOf(r.url)}`);
  });

  it("each path parameter is named and described as the route Fastify registered for it calls it", () => {
    const routes = paramRoutes();
    for (const { path, method, op } of operations()) {
      const declared = (op.parameters ?? []).filter((p) => p.in === "path");
      if (declared.length === 0) continue;
      const where = `${method} ${path}`;
      const route = routes.find((r) => r.method === method && shapeOf(r.url) === shapeOf(path));
      expect(route, `${where}: no route of that shape`).toBeDefined();
      const own = namesIn(route?.url ?? "");
      // Routes of one shape share a path; a parameter they name differently is named after each of them.
      const sharing = routes.filter((r) => shapeOf(r.url) === shapeOf(path)).map((r) => namesIn(r.url));
      declared.forEach((param, i) => {
        const name = own[i] as string;
        const names = new Set(sharing.map((n) => n[i]));
        if (names.size === 1) expect(param.name, where).toBe(name);
        else for (const n of names) expect(param.name.toLowerCase(), where).toContain(n?.toLowerCase());
        expect(Object.keys(MEANING), `${where}: add what '${name}' means to MEANING`).toContain(name);
        const says = Object.keys(MEANING).filter((k) => MEANING[k]?.test(param.description ?? ""));
        expect(says, `${where}: {${param.name}} is '${param.description}'; the route calls it '${name}'`).toEqual([
          name,
        ]);
      });
    }
  });

  it("POST /job/:jobType and DELETE /job/:uuid share one path, each saying what it takes", () => {
    const item = doc.paths["/job/{jobTypeOrUuid}"];
    expect(item?.post?.parameters?.[0]).toMatchObject({ name: "jobTypeOrUuid", description: "a registered job type" });
    expect(item?.delete?.parameters?.[0]).toMatchObject({ name: "jobTypeOrUuid", description: "the job's uuid" });
    expect(Object.keys(doc.paths).filter((p) => shapeOf(p) === "/job/{}")).toEqual(["/job/{jobTypeOrUuid}"]);
  });

  it("summaries read well whatever a job type is called: 'Create a job of type always_reject'", () => {
    const summaries = operations().map(({ path, method, op }) => ({ where: `${method} ${path}`, s: op.summary ?? "" }));
    for (const { where, s } of summaries) {
      expect(s, where).toMatch(/^[A-Z]/);
      expect(s, where).not.toMatch(/\ba [aeiou]|\ban [^aeiou\s]/i);
      expect(s, `${where}: Fastify's :param syntax`).not.toMatch(/\/:/);
    }
    expect(doc.paths["/job/always_reject"]?.post?.summary).toBe("Create a job of type always_reject");
    expect(doc.paths["/checks/always_reject/job"]?.post?.summary).toBe("Create a job of type always_reject");
    expect(doc.paths["/job/Upload"]?.post?.summary).toBe("Create a job of type Upload");
    expect(doc.paths["/job/resize"]?.post?.summary).toBe("Create a job of type resize");
    expect(doc.paths["/checks/branches"]?.get?.summary).toBe("Sub-branches of the checks branch");
  });
});
