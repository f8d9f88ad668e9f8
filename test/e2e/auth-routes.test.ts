import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseJob, createApp, type RouteGuard, Server } from "zerog";
import { routeGuardsOf } from "../../src/server/route-guards.ts";
import { rawRequest } from "../helpers/raw-http.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

/**
 * The API token decides on the route the router matched, for every route and method, over real
 * sockets: request shapes the router normalises (%-escapes, absolute-form targets, fragments) get
 * no further than the plain path, and a table built from the app's own route list (and from its
 * OpenAPI document) checks each route's guard without the token, with it, and with protectReads.
 */

const TOKEN = "route-token";

/** In a branch, so the OpenAPI document has discovery paths too. */
class BranchedJob extends BaseJob {
  static override jobType = "branched";
  static override branch = "tools";
  run() {
    return 200;
  }
}

/**
 * The guard each route must have, as docs/api.md ("Authentication") states it. A route missing
 * here fails the table test: add it with the guard the docs give it. HEAD routes (Fastify adds one
 * per GET route) take their GET's. Swagger UI's routes are whatever its plugin registers under /docs.
 */
const EXPECTED: Readonly<Record<string, RouteGuard>> = {
  "POST /job/:jobType": "token",
  "POST /job/:uuid/kill": "token",
  "DELETE /job/:uuid": "token",
  "POST /job/:uuid/retry": "token",
  "POST /jobs": "token",
  "POST /jobs/retry": "token",
  "POST /jobtypes/:jobType/pause": "token",
  "POST /jobtypes/:jobType/resume": "token",
  "POST /*": "token",
  "GET /workers": "token",
  "GET /workers/:id": "token",
  "GET /hosts/:host": "token",
  "POST /workers/:id/drain": "token",
  "POST /workers/:id/undrain": "token",
  "POST /workers/:id/retire": "token",
  "POST /hosts/:host/drain": "token",
  "POST /hosts/:host/undrain": "token",
  "POST /hosts/:host/retire": "token",
  "GET /metrics": "token",
  "GET /progress/:uuid": "read",
  "GET /info/:uuid": "read",
  "GET /data/:uuid": "read",
  "GET /dump/:uuid": "read",
  "GET /jobs": "read",
  "GET /events/:uuid": "read",
  "GET /openapi.json": "read",
  "GET /jobtypes": "read",
  "GET /branches": "read",
  "GET /*": "read",
  "GET /health": "open",
  "GET /": "open",
  "GET /ui": "open",
  "GET /ui/": "open",
  "GET /ui/*": "open",
  "OPTIONS *": "open",
};

function expectedGuard(method: string, url: string): RouteGuard | undefined {
  if (url === "/docs" || url.startsWith("/docs/")) return "read";
  return EXPECTED[`${method} ${url}`] ?? (method === "HEAD" ? EXPECTED[`GET ${url}`] : undefined);
}

/** A concrete path for a route template (`:uuid`, `{uuid}`, `*`): values that reach the route's handler. */
function concrete(template: string): string {
  return template
    .replace(/[:{]uuid\}?/g, randomUUID())
    .replace(/[:{]jobType\}?/g, "return_value")
    .replace(/[:{]id\}?/g, "no-such-worker")
    .replace(/[:{]host\}?/g, "no-such-host")
    .replace(/^\/ui\/\*$/, "/ui/app.css")
    .replace(/\*$/, "tools/branches");
}

interface Target {
  name: string;
  port: number;
  base: string;
  server: Server;
}

let open: Target; // a token, reads open
let closed: Target; // a token and protectReads

async function start(name: string, protectReads: boolean): Promise<Target> {
  const server = new Server({
    jobs: [...TEST_JOBS, BranchedJob],
    datastore: "memory:",
    queue: "memory:",
    concurrency: 0,
    apiToken: TOKEN,
    protectReads,
  });
  const base = await server.listen({ port: 0, host: "127.0.0.1" });
  return { name, port: Number(new URL(base).port), base, server };
}

beforeAll(async () => {
  open = await start("token", false);
  closed = await start("token + protectReads", true);
});
afterAll(async () => {
  await open?.server.close();
  await closed?.server.close();
});

/** One request as a browser or a client library would send it; OPTIONS is a CORS preflight. */
async function send(t: Target, method: string, path: string, token?: string): Promise<number> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (method === "OPTIONS") {
    headers.origin = "http://ui.example";
    headers["access-control-request-method"] = "POST";
  }
  const hasBody = method === "POST" || method === "DELETE";
  const res = await fetch(`${t.base}${path}`, {
    method,
    headers,
    redirect: "manual",
    ...(hasBody ? { body: "{}" } : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Checks one route's guard over HTTP, on both servers, without and with the token. */
async function expectGuard(method: string, path: string, guard: RouteGuard): Promise<void> {
  const what = `${guard} route: ${method} ${path}`;
  const without = await send(open, method, path);
  expect(without === 401, `${what} without a token (reads open)`).toBe(guard === "token");
  const withoutClosed = await send(closed, method, path);
  expect(withoutClosed === 401, `${what} without a token (protectReads)`).toBe(guard !== "open");
  const wrong = await send(closed, method, path, `${TOKEN}x`);
  expect(wrong === 401, `${what} with a wrong token (protectReads)`).toBe(guard !== "open");
  expect(await send(closed, method, path, TOKEN), `${what} with the token`).not.toBe(401);
  expect(await send(open, method, path, TOKEN), `${what} with the token`).not.toBe(401);
}

describe("request shapes the router normalises", () => {
  const plain = async (t: Target, line: string, token?: string) =>
    rawRequest(t.port, `${line}\r\nHost: 127.0.0.1${token ? `\r\nAuthorization: Bearer ${token}` : ""}`);

  it("reach no management route without the token, and the same route as the plain path with it", async () => {
    const p = open.port;
    const shapes: [string, string][] = [
      ["GET /%77orkers HTTP/1.1", "GET /workers HTTP/1.1"],
      ["HEAD /metric%73 HTTP/1.1", "HEAD /metrics HTTP/1.1"],
      ["GET /%6D%65%74%72%69%63%73 HTTP/1.1", "GET /metrics HTTP/1.1"],
      [`GET http://127.0.0.1:${p}/workers HTTP/1.1`, "GET /workers HTTP/1.1"],
      [`HEAD http://localhost:${p}/metrics HTTP/1.1`, "HEAD /metrics HTTP/1.1"],
      ["GET /workers#fragment HTTP/1.1", "GET /workers HTTP/1.1"],
      ["GET /metrics#/health HTTP/1.1", "GET /metrics HTTP/1.1"],
      ["GET /metrics?x=1#y HTTP/1.1", "GET /metrics HTTP/1.1"],
      ["GET /hosts/%6eo-such-host HTTP/1.1", "GET /hosts/no-such-host HTTP/1.1"],
      ["GET /%77orkers/no-such-worker HTTP/1.1", "GET /workers/no-such-worker HTTP/1.1"],
      [
        "POST /%6aob/return_value HTTP/1.1\r\nContent-Length: 0",
        "POST /job/return_value HTTP/1.1\r\nContent-Length: 0",
      ],
      [
        `POST http://127.0.0.1:${p}/job/return_value HTTP/1.1\r\nContent-Length: 0`,
        "POST /job/return_value HTTP/1.1\r\nContent-Length: 0",
      ],
    ];
    for (const [shape, same] of shapes) {
      const refused = await plain(open, shape);
      expect(refused.status, shape).toBe(401);
      expect(refused.headers["www-authenticate"], shape).toBe('Bearer realm="zerog"');
      if (!shape.startsWith("HEAD"))
        expect(JSON.parse(refused.body), shape).toMatchObject({ error: "ZEROG_UNAUTHORIZED" });
      // With the token, the shape reaches exactly what the plain path reaches.
      const allowed = await plain(open, shape, TOKEN);
      const reference = await plain(open, same, TOKEN);
      expect(allowed.status, shape).not.toBe(401);
      expect(allowed.status, shape).toBe(reference.status);
    }
    // The management reads answer with the token, so the 401s above are the guard, not a miss.
    expect((await plain(open, "GET /%77orkers HTTP/1.1", TOKEN)).status).toBe(200);
    expect((await plain(open, `GET http://127.0.0.1:${p}/workers HTTP/1.1`, TOKEN)).status).toBe(200);
    expect((await plain(open, "HEAD /metric%73 HTTP/1.1", TOKEN)).status).toBe(200);
  });

  it("reach no read without the token under protectReads; ?access_token= counts on GET /events alone", async () => {
    const uuid = await closed.server.client.create("return_value", { ret: 200 });
    const p = closed.port;
    for (const shape of [
      `GET /%70rogress/${uuid} HTTP/1.1`,
      `GET http://127.0.0.1:${p}/info/${uuid} HTTP/1.1`,
      `HEAD /dump/${uuid}#x HTTP/1.1`,
      "GET /%6aobs HTTP/1.1",
      "GET /openapi.json#/health HTTP/1.1",
      "GET /tools/%62ranches HTTP/1.1",
      `GET /progress/${uuid}?access_token=${TOKEN} HTTP/1.1`,
      `HEAD /events/${uuid}?access_token=${TOKEN} HTTP/1.1`,
      `GET /events/${uuid}?access_token=${TOKEN}x HTTP/1.1`,
    ]) {
      expect((await plain(closed, shape)).status, shape).toBe(401);
    }
    expect((await plain(closed, `GET /%70rogress/${uuid} HTTP/1.1`, TOKEN)).status).toBe(200);
    // The stream's route takes the query token however its path is spelled.
    const stream = await plain(closed, `GET /%65vents/${randomUUID()}?access_token=${TOKEN} HTTP/1.1`);
    expect(stream.status).toBe(404);
    expect(JSON.parse(stream.body)).toMatchObject({ error: "ZEROG_JOB_NOT_FOUND" });
  });

  it("a request that matches no route gets 401 without the token and 404 with it", async () => {
    for (const line of ["DELETE /nowhere HTTP/1.1", "PUT /workers HTTP/1.1", "PATCH /%77orkers HTTP/1.1"]) {
      expect((await plain(open, line)).status, line).toBe(401);
      const found = await plain(open, line, TOKEN);
      expect(found.status, line).toBe(404);
      expect(JSON.parse(found.body), line).toMatchObject({ error: "ZEROG_ROUTE_NOT_FOUND" });
    }
    // A path no route serves, under the discovery catch-all (a read), is 404 while reads are open.
    expect((await plain(open, "GET /nowhere HTTP/1.1")).status).toBe(404);
    expect((await plain(closed, "GET /nowhere HTTP/1.1")).status).toBe(401);
  });
});

describe("every route's guard", () => {
  it("every registered route, each method, declares the guard the docs give it", () => {
    const routes = routeGuardsOf(open.server.app);
    expect(routes.length).toBeGreaterThan(40);
    for (const r of routes) {
      const expected = expectedGuard(r.method, r.url);
      expect(
        expected,
        `${r.method} ${r.url} is not in this test's table: add it with its documented guard`,
      ).toBeDefined();
      expect(r.guard, `${r.method} ${r.url}`).toBe(expected);
    }
    // Every GET has its HEAD, with the same guard.
    const heads = new Set(routes.filter((r) => r.method === "HEAD").map((r) => r.url));
    for (const r of routes.filter((x) => x.method === "GET")) expect(heads, `HEAD ${r.url}`).toContain(r.url);
  });

  it("every registered route, each method, is guarded over HTTP as declared", async () => {
    const routes = routeGuardsOf(open.server.app);
    for (const r of routes) {
      const path = r.method === "OPTIONS" ? "/job/return_value" : concrete(r.url);
      await expectGuard(r.method, path, r.guard ?? expect.fail(`${r.method} ${r.url} has no guard`));
    }
  });

  it("every operation of the OpenAPI document is guarded as the route that serves it", async () => {
    const res = await fetch(`${open.base}/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = routeGuardsOf(open.server.app);
    const skeleton = (url: string) => url.replace(/\{[^}]+\}|:[A-Za-z0-9_]+/g, "{}");
    let operations = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const m of Object.keys(item)) {
        const method = m.toUpperCase();
        // Its own route, or the catch-all that serves discovery paths (`/tools/branches`, `/tools/branched/job`).
        const route =
          routes.find((r) => r.method === method && skeleton(r.url) === skeleton(template)) ??
          routes.find((r) => r.method === method && r.url === "/*");
        const guard = route?.guard ?? expect.fail(`no route serves ${method} ${template}`);
        // The route's own names (`/job/:uuid`), not the document's shared one (`/job/{jobTypeOrUuid}`).
        await expectGuard(method, concrete(route?.url === "/*" ? template : (route?.url ?? template)), guard);
        operations += 1;
      }
    }
    expect(operations).toBeGreaterThan(30);
  });

  it("an app with a route that declares no guard, or a weak one for a write, does not start", async () => {
    const unguarded = createApp({ client: open.server.client });
    unguarded.get("/extra", async () => "data");
    await expect(unguarded.ready()).rejects.toMatchObject({
      code: "ZEROG_INVALID_CONFIG",
      message: expect.stringMatching(/GET \/extra declares no guard; HEAD \/extra declares no guard/),
    });
    const weak = createApp({ client: open.server.client });
    weak.post("/extra", { config: { guard: "read" } }, async () => "done");
    await expect(weak.ready()).rejects.toMatchObject({
      message: expect.stringContaining("POST /extra changes something but declares guard 'read'"),
    });
    const declared = createApp({ client: open.server.client, auth: { token: TOKEN } });
    declared.get("/extra", { config: { guard: "token" } }, async () => "data");
    await declared.ready();
    expect((await declared.inject({ url: "/%65xtra" })).statusCode).toBe(401);
    expect((await declared.inject({ method: "HEAD", url: "/extra" })).statusCode).toBe(401);
    expect((await declared.inject({ url: "/extra", headers: { authorization: `Bearer ${TOKEN}` } })).body).toBe("data");
    await declared.close();
  });
});
