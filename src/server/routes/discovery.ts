import { createRequire } from "node:module";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { BranchNotFoundError, InvalidConfigError, ZeroGError } from "../../errors.ts";
import { branchSegments, displayNameOf } from "../../job/branches.ts";
import { paramsJsonSchema } from "../../job/params-json-schema.ts";
import type { JobRegistry } from "../../job/registry.ts";
import { buildOpenApiDocument, type RouteEntry } from "../openapi/document.ts";
import { guardEveryRoute } from "../route-guards.ts";

const VERSION = (createRequire(import.meta.url)("../../../package.json") as { version: string }).version;

/** Discovery and the OpenAPI document are reads: guarded by the token only with `protectReads`. */
const READ = { config: { guard: "read" } } as const;

/** The last path segment of each discovery request. */
const LIST_VERBS = new Set(["branches", "leaves"]);

/**
 * Discovery (docs/api.md): `GET /branches`, `GET /{branch}/branches`, `GET /{branch}/leaves`,
 * `GET /{branch}/{leaf}/post-schema`, `GET /jobtypes`, `GET /openapi.json` and Swagger UI at
 * `/docs` (each job type with whether it is paused, read from the backend). `POST /{branch}/{leaf}/job` is `POST /job/{leaf}`: `rewriteLeafPost` sends it there
 * before routing, so it gets that route's options, hooks and errors.
 *
 * Branch paths have any depth, so the branch requests are served by catch-all `GET /*` and
 * `POST /*` routes, which Fastify tries only after every other route: discovery never shadows
 * another endpoint. Anything they do not recognise gets the usual 404 ZEROG_ROUTE_NOT_FOUND. To
 * keep the other direction safe, a branch may not start with a segment another route starts with
 * (`job`, `workers`, …): checked when the app is ready.
 *
 * Call it first in `createApp`: it records every route registered after it for the OpenAPI document.
 */
export function registerDiscovery(
  app: FastifyInstance,
  registry: JobRegistry,
  pausedTypes: () => Promise<readonly string[]>,
): void {
  const routes: RouteEntry[] = [];
  app.addHook("onRoute", (r: RouteOptions) => {
    const schema = r.schema as { hide?: boolean; summary?: string; description?: string } | undefined;
    for (const method of [r.method].flat()) {
      routes.push({
        method,
        url: r.url,
        hidden: schema?.hide === true || r.url.includes("*"),
        ...(schema?.summary ? { summary: schema.summary } : {}),
        ...(schema?.description ? { description: schema.description } : {}),
      });
    }
  });

  // Filled in place once every route is known: @fastify/swagger (static mode) serves this object
  // to Swagger UI, and GET /openapi.json answers with it.
  const document = { openapi: "3.1.0", info: { title: "ZeroG", version: VERSION }, paths: {} };
  app.register(swagger, { mode: "static", specification: { document } });
  // Swagger UI's routes cannot take a config: its own scope gives them all the guard of a read.
  app.register(async (scope) => {
    guardEveryRoute(scope, "read");
    await scope.register(swaggerUi, { routePrefix: "/docs", uiConfig: { deepLinking: true } });
  });
  app.addHook("onReady", async () => {
    checkBranchesClear(registry, routes);
    Object.assign(document, buildOpenApiDocument({ registry, routes, version: VERSION }));
  });

  app.get("/openapi.json", READ, async () => document);
  app.get("/jobtypes", READ, async () => {
    const paused = new Set(await pausedTypes());
    return registry.classes().map((cls) => {
      const branch = branchSegments(cls);
      return {
        jobType: cls.jobType,
        name: displayNameOf(cls),
        description: cls.description ?? "",
        branch: branch.length > 0 ? branch.join("/") : null,
        path: branch.length > 0 ? [...branch, cls.jobType].join("/") : null,
        postSchema: paramsJsonSchema(cls),
        paused: paused.has(cls.jobType),
      };
    });
  });
  app.get("/branches", READ, async () => registry.branchTree().branches([]));
  app.get("/*", READ, async (req, reply) => serveGet(registry, segmentsOf(req), reply));
  app.post("/*", { config: { guard: "token" } }, async (req, reply) => servePost(registry, segmentsOf(req), reply));
}

/** `Fastify({ rewriteUrl })`: `POST /{branch}/{leaf}/job` of a registered leaf becomes `POST /job/{leaf}`, query kept. */
export function rewriteLeafPost(method: string | undefined, url: string | undefined, registry: JobRegistry): string {
  const raw = url ?? "/";
  if (method !== "POST") return raw;
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  if (!path.endsWith("/job")) return raw; // the cheap test first: this runs for every request
  const segs = decodeSegments(path);
  if (!segs || segs.length < 3) return raw;
  const jobType = segs[segs.length - 2] as string;
  const cls = registry.branchTree().leaf(segs.slice(0, -2), jobType);
  if (typeof cls === "string") return raw;
  return `/job/${encodeURIComponent(jobType)}${q < 0 ? "" : raw.slice(q)}`;
}

async function serveGet(registry: JobRegistry, segs: string[] | null, reply: FastifyReply): Promise<unknown> {
  const verb = segs?.at(-1);
  if (!segs || segs.length < 2 || verb === undefined) return reply.callNotFound();
  const tree = registry.branchTree();
  if (LIST_VERBS.has(verb)) {
    const branch = segs.slice(0, -1);
    const found = verb === "branches" ? tree.branches(branch) : tree.leaves(branch);
    if (!found) throw new BranchNotFoundError(branch.join("/"));
    return found;
  }
  if (verb === "post-schema" && segs.length >= 3) return { postSchema: paramsJsonSchema(leafOf(registry, segs)) };
  return reply.callNotFound();
}

async function servePost(registry: JobRegistry, segs: string[] | null, reply: FastifyReply): Promise<unknown> {
  if (!segs || segs.length < 3 || segs.at(-1) !== "job") return reply.callNotFound();
  leafOf(registry, segs); // throws: a registered leaf's POST was rewritten to /job/{leaf} before routing
  throw new ZeroGError("ZEROG_INTERNAL", "a branch POST was not rewritten: createApp must pass rewriteLeafPost");
}

/** The class of `/{branch…}/{leaf}/{verb}`, or BranchNotFoundError. */
function leafOf(registry: JobRegistry, segs: readonly string[]) {
  const branch = segs.slice(0, -2);
  const leaf = segs[segs.length - 2] as string;
  const cls = registry.branchTree().leaf(branch, leaf);
  if (cls === "no-branch") throw new BranchNotFoundError(branch.join("/"));
  if (cls === "no-leaf") throw new BranchNotFoundError(branch.join("/"), leaf);
  return cls;
}

function segmentsOf(req: FastifyRequest): string[] | null {
  const q = req.url.indexOf("?");
  return decodeSegments(q < 0 ? req.url : req.url.slice(0, q));
}

/** `/a/b/c` → `["a", "b", "c"]`; null for a malformed %-escape. */
function decodeSegments(path: string): string[] | null {
  try {
    return path.split("/").slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
}

/** A branch named like another route's first segment (`/workers/…`) would be unreachable or shadow it. */
function checkBranchesClear(registry: JobRegistry, routes: readonly RouteEntry[]): void {
  const taken = new Set<string>();
  for (const r of routes) {
    const first = r.url.split("/")[1] ?? "";
    if (first !== "" && !first.includes(":") && !first.includes("*")) taken.add(first);
  }
  for (const cls of registry.classes()) {
    const top = branchSegments(cls)[0];
    if (top !== undefined && taken.has(top)) {
      throw new InvalidConfigError(
        `${cls.name} (${cls.jobType}): static branch '${cls.branch}' starts with '${top}', which the API's /${top} routes use; choose another name`,
      );
    }
  }
}
