import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseJob, Server, z } from "zerog";
import { FizzBuzzJob } from "../../examples/fizz-buzz-job.ts";
import { WasteTimeJob } from "../../examples/waste-time-job.ts";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";

/** Discovery over real HTTP: branches, leaves, post-schemas, branch POSTs, /jobtypes, OpenAPI, /docs. */

class ResizeJob extends BaseJob<typeof ResizeJob.schema> {
  static override jobType = "resize";
  static override schema = z.strictObject({
    width: z.number().int().min(1),
    height: z.number().int().min(1).optional(),
  });
  static override description = "Resizes an image";
  static override branch = "media/images";
  static override displayName = "Resize an image";
  run() {
    return 200;
  }
}
class TranscodeJob extends BaseJob {
  static override jobType = "transcode";
  static override description = "Transcodes a video";
  static override branch = "media";
  run() {
    return 200;
  }
}
/** In no branch: only /job/unlisted and /jobtypes know it. */
class UnlistedJob extends BaseJob {
  static override jobType = "unlisted";
  run() {
    return 200;
  }
}
const JOBS = [WasteTimeJob, FizzBuzzJob, ResizeJob, TranscodeJob, UnlistedJob];

let server: Server;
let base: string;
beforeAll(async () => {
  const backend = new SeparateBackend(new MemoryDatastore(), new MemoryQueue(), { fleet: new MemoryFleetStore() });
  server = new Server({ jobs: JOBS, backend, concurrency: 0 });
  base = await server.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await server?.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : (JSON.parse(text) as unknown) };
}
const get = (path: string) => call("GET", path);

describe("discovery over HTTP", () => {
  it("GET /branches lists the top-level branches; GET /{branch}/branches the ones directly below", async () => {
    expect(await get("/branches")).toEqual({
      status: 200,
      body: [
        { path: "examples", name: "examples" },
        { path: "media", name: "media" },
      ],
    });
    expect((await get("/media/branches")).body).toEqual([{ path: "media/images", name: "images" }]);
    expect(await get("/media/images/branches")).toEqual({ status: 200, body: [] });
    expect(await get("/examples/branches")).toEqual({ status: 200, body: [] });
  });

  it("GET /{branch}/leaves lists the job types in that branch only, nested branches included", async () => {
    expect(await get("/examples/leaves")).toEqual({
      status: 200,
      body: [
        {
          path: "examples/fizz_buzz",
          jobType: "fizz_buzz",
          name: "FizzBuzzJob",
          description: "Plays fizz buzz up to n",
        },
        {
          path: "examples/waste_time",
          jobType: "waste_time",
          name: "WasteTimeJob",
          description: "Wastes time while logging about ten messages",
        },
      ],
    });
    expect((await get("/media/leaves")).body).toEqual([
      { path: "media/transcode", jobType: "transcode", name: "TranscodeJob", description: "Transcodes a video" },
    ]);
    expect((await get("/media/images/leaves")).body).toEqual([
      { path: "media/images/resize", jobType: "resize", name: "Resize an image", description: "Resizes an image" },
    ]);
  });

  it("GET /{branch}/{leaf}/post-schema is the params' JSON Schema, input side (z.toJSONSchema)", async () => {
    expect(await get("/examples/waste_time/post-schema")).toEqual({
      status: 200,
      body: { postSchema: z.toJSONSchema(WasteTimeJob.schema, { io: "input" }) },
    });
    const resize = (await get("/media/images/resize/post-schema")).body as { postSchema: Record<string, unknown> };
    expect(resize.postSchema).toEqual(z.toJSONSchema(ResizeJob.schema, { io: "input" }));
    expect(resize.postSchema).toMatchObject({ required: ["width"], additionalProperties: false });
    // Input side: a field with a default is optional.
    expect((await get("/examples/fizz_buzz/post-schema")).body).toMatchObject({ postSchema: { required: ["n"] } });
  });

  it("an unknown branch or leaf is 404 ZEROG_BRANCH_NOT_FOUND, at any depth and for every verb", async () => {
    const notFound = (message: string) => ({ status: 404, body: { error: "ZEROG_BRANCH_NOT_FOUND", message } });
    expect(await get("/nope/leaves")).toEqual(notFound("no branch 'nope'"));
    expect(await get("/nope/branches")).toEqual(notFound("no branch 'nope'"));
    expect(await get("/media/videos/leaves")).toEqual(notFound("no branch 'media/videos'"));
    expect(await get("/media/images/crop/post-schema")).toEqual(
      notFound("no job type 'crop' in branch 'media/images'"),
    );
    expect(await get("/nope/resize/post-schema")).toEqual(notFound("no branch 'nope'"));
    // A job type exists, but not in this branch.
    expect(await get("/examples/resize/post-schema")).toEqual(notFound("no job type 'resize' in branch 'examples'"));
    expect(await call("POST", "/media/crop/job", {})).toEqual(notFound("no job type 'crop' in branch 'media'"));
    expect(await call("POST", "/nope/waste_time/job", {})).toEqual(notFound("no branch 'nope'"));
    // A leaf is not a branch.
    expect(await get("/examples/waste_time/leaves")).toEqual(notFound("no branch 'examples/waste_time'"));
  });

  it("paths that are not discovery requests still get 404 ZEROG_ROUTE_NOT_FOUND", async () => {
    for (const path of ["/nope", "/examples", "/examples/waste_time", "/leaves", "/examples/waste_time/other"]) {
      expect(await get(path)).toMatchObject({ status: 404, body: { error: "ZEROG_ROUTE_NOT_FOUND" } });
    }
    expect(await call("POST", "/examples/waste_time", {})).toMatchObject({
      status: 404,
      body: { error: "ZEROG_ROUTE_NOT_FOUND" },
    });
  });

  it("POST /{branch}/{leaf}/job creates the job as POST /job/{jobType} does, with the same errors", async () => {
    const created = await call("POST", "/media/images/resize/job", { width: 640 });
    expect(created.status).toBe(201);
    const uuid = (created.body as { uuid: string }).uuid;
    const dump = (await get(`/dump/${uuid}`)).body;
    expect(dump).toMatchObject({ jobType: "resize", params: { width: 640 } });
    // Defaults apply, as on the flat route.
    const waste = (await call("POST", "/examples/waste_time/job", {})).body as { uuid: string };
    expect((await get(`/dump/${waste.uuid}`)).body).toMatchObject({ jobType: "waste_time", params: { delay: 30 } });

    const bad = await call("POST", "/media/images/resize/job", { width: 0, extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "ZEROG_INVALID_PARAMS" });
    expect(bad.body).toEqual((await call("POST", "/job/resize", { width: 0, extra: 1 })).body);

    const res = await fetch(`${base}/examples/fizz_buzz/job`, { method: "POST", body: "{not json" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "ZEROG_INVALID_JSON" });
  });

  it("POST /{branch}/{leaf}/job takes POST /job's options: query string and Idempotency-Key", async () => {
    const post = (path: string) =>
      fetch(`${base}${path}`, { method: "POST", headers: { "idempotency-key": "discovery-key-1" }, body: "{}" });
    const first = await post("/job/waste_time");
    expect(first.status).toBe(201);
    const again = await post("/examples/waste_time/job");
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(await first.json());
    expect(await call("POST", "/examples/waste_time/job?bogus=1", {})).toMatchObject({
      status: 400,
      body: { error: "ZEROG_BAD_REQUEST" },
    });
  });

  it("GET /jobtypes lists every job type with its branch, path and params' JSON Schema", async () => {
    const { status, body } = await get("/jobtypes");
    expect(status).toBe(200);
    const rows = body as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.jobType)).toEqual(["fizz_buzz", "resize", "transcode", "unlisted", "waste_time"]);
    expect(rows.find((r) => r.jobType === "resize")).toEqual({
      jobType: "resize",
      name: "Resize an image",
      description: "Resizes an image",
      branch: "media/images",
      path: "media/images/resize",
      postSchema: z.toJSONSchema(ResizeJob.schema, { io: "input" }),
      paused: false,
    });
    expect(rows.find((r) => r.jobType === "unlisted")).toMatchObject({
      name: "UnlistedJob",
      description: "",
      branch: null,
      path: null,
      postSchema: { type: "object" },
    });
  });

  it("the existing routes are not shadowed by discovery", async () => {
    const created = await call("POST", "/job/fizz_buzz", { n: 3 });
    expect(created.status).toBe(201);
    const uuid = (created.body as { uuid: string }).uuid;
    expect(await get(`/progress/${uuid}`)).toEqual({ status: 200, body: { completeness: 0, result: -1 } });
    expect((await get(`/info/${uuid}`)).status).toBe(200);
    expect((await get(`/dump/${uuid}`)).status).toBe(200);
    expect((await get(`/data/${uuid}`)).status).toBe(200);
    expect(await call("POST", "/job/nope", {})).toMatchObject({
      status: 404,
      body: { error: "ZEROG_UNKNOWN_JOB_TYPE" },
    });
    expect((await get("/workers")).status).toBe(200);
    expect(await get("/hosts/no-such-host")).toMatchObject({ status: 404, body: { error: "ZEROG_HOST_NOT_FOUND" } });
    expect(await get("/progress/not-a-uuid")).toMatchObject({ status: 404, body: { error: "ZEROG_JOB_NOT_FOUND" } });
    expect((await call("POST", `/job/${uuid}/kill`)).body).toEqual({ uuid, result: "killed" });
    const preflight = await fetch(`${base}/examples/leaves`, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
  });
});

describe("OpenAPI and interactive docs", () => {
  it("GET /openapi.json is a valid OpenAPI 3.1 document; each job type's POST body is its params schema", async () => {
    const { status, body } = await get("/openapi.json");
    expect(status).toBe(200);
    const doc = body as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    const result = await new Validator().validate(doc as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    const bodyOf = (path: string) => doc.paths[path]?.post?.requestBody?.content["application/json"]?.schema;
    expect(bodyOf("/job/resize")).toEqual(z.toJSONSchema(ResizeJob.schema, { io: "input" }));
    expect(bodyOf("/media/images/resize/job")).toEqual(z.toJSONSchema(ResizeJob.schema, { io: "input" }));
    expect(bodyOf("/job/waste_time")).toEqual(z.toJSONSchema(WasteTimeJob.schema, { io: "input" }));
    expect(bodyOf("/job/unlisted")).toBeDefined();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/job/{jobTypeOrUuid}",
        "/progress/{uuid}",
        "/info/{uuid}",
        "/data/{uuid}",
        "/dump/{uuid}",
        "/workers",
        "/hosts/{host}",
        "/workers/{id}/drain",
        "/branches",
        "/jobtypes",
        "/media/branches",
        "/media/images/leaves",
        "/media/images/resize/post-schema",
        "/examples/waste_time/job",
      ]),
    );
    // Wildcards and Swagger UI's own routes are not API endpoints.
    expect(Object.keys(doc.paths).filter((p) => p.includes("*") || p.startsWith("/docs"))).toEqual([]);
    // Errors are the JSON error shape.
    const progress = doc.paths["/progress/{uuid}"]?.get as { responses: Record<string, unknown> } | undefined;
    const notFound = progress?.responses["404"];
    expect(notFound).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    });
  });

  it("GET /docs serves Swagger UI with its assets from this server (no CDN), reading this document", async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const a = await fetch(new URL(asset, `${base}/docs`));
      expect(a.status, asset).toBe(200);
      await a.arrayBuffer();
    }
    const spec = await (await fetch(`${base}/docs/json`)).json();
    expect(spec).toEqual((await get("/openapi.json")).body);
  });
});
