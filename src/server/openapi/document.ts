import { type ErrorCode, HTTP_STATUS } from "../../errors.ts";
import { branchSegments } from "../../job/branches.ts";
import { type JsonSchema, paramsJsonSchema } from "../../job/params-json-schema.ts";
import type { JobRegistry } from "../../job/registry.ts";
import { COMPONENT_SCHEMAS, DISCOVERY_OPERATIONS, KNOWN_OPERATIONS, type OperationDoc } from "./operations.ts";

/** A route of the app as Fastify registered it. */
export interface RouteEntry {
  method: string;
  /** Fastify's form: `/job/:jobType`. */
  url: string;
  /** `schema.hide` (Swagger UI's own routes) or a wildcard: left out of the document. */
  hidden: boolean;
  /** From the route's `schema`, when it has one. */
  summary?: string;
  description?: string;
}

type Operation = Record<string, unknown>;
type PathItem = Record<string, Operation>;

/** One operation before it is placed: its template as its route names it, and those names in order. */
interface PathEntry {
  template: string;
  method: string;
  doc: OperationDoc;
  paramNames: readonly string[];
}

const ERROR_CONTENT = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

/**
 * The OpenAPI 3.1 document of an app: every route it serves (described from `KNOWN_OPERATIONS`,
 * or a bare entry for one it does not know), plus, per job type, `POST /job/{type}` with the
 * type's params schema as the body and its discovery paths. Errors are the JSON error shape.
 */
export function buildOpenApiDocument(opts: { registry: JobRegistry; routes: readonly RouteEntry[]; version: string }) {
  const entries: PathEntry[] = [];
  const add = (template: string, method: string, doc: OperationDoc, paramNames: readonly string[]): void => {
    entries.push({ template, method, doc, paramNames });
  };

  for (const route of opts.routes) {
    if (route.hidden || route.method === "HEAD" || route.method === "OPTIONS") continue;
    const template = route.url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, "{$1}");
    const params = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
    add(template, route.method, KNOWN_OPERATIONS[`${route.method} ${route.url}`] ?? bare(route), params);
  }

  const tree = opts.registry.branchTree();
  for (const branch of tree.allBranches()) {
    const p = branch.join("/");
    add(`/${p}/branches`, "GET", DISCOVERY_OPERATIONS.branches(p), []);
    add(`/${p}/leaves`, "GET", DISCOVERY_OPERATIONS.leaves(p), []);
  }
  for (const cls of opts.registry.classes()) {
    const schema = paramsJsonSchema(cls);
    const create = DISCOVERY_OPERATIONS.create(cls.jobType, cls.description ?? "", schema);
    add(`/job/${cls.jobType}`, "POST", create, []);
    const branch = branchSegments(cls);
    if (branch.length === 0) continue;
    const leaf = [...branch, cls.jobType].join("/");
    add(`/${leaf}/post-schema`, "GET", DISCOVERY_OPERATIONS.postSchema(leaf), []);
    add(`/${leaf}/job`, "POST", create, []);
  }

  const paths: Record<string, PathItem> = {};
  for (const { template, entries: shared } of sharedTemplates(entries)) {
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
    const item: PathItem = {};
    paths[template] = item;
    for (const e of shared) item[e.method.toLowerCase()] = operation(e.doc, names, e.paramNames);
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "ZeroG",
      version: opts.version,
      description: "Background jobs over REST. Errors are JSON: `{error, message, issues?}`.",
    },
    tags: [
      { name: "jobs", description: "create jobs and read them back" },
      { name: "discovery", description: "branches, job types and their params' schemas" },
      { name: "fleet", description: "workers, hosts, drain / undrain / retire" },
      { name: "operations", description: "health and metrics" },
    ],
    paths: sortKeys(paths),
    components: { schemas: { ...COMPONENT_SCHEMAS, Error: errorSchema() } },
  };
}

/**
 * The entries grouped by the path they are documented under. OpenAPI counts templates that differ
 * only in their parameters' names as one path (`/job/{jobType}` is `/job/{uuid}`), so routes of one
 * shape share a template: a parameter that all of them name alike keeps its name, and one they name
 * differently is named after all of them (`/job/{jobTypeOrUuid}`). Each operation describes the
 * parameter as its own route means it ("a registered job type", "the job's uuid").
 */
function sharedTemplates(entries: readonly PathEntry[]): Array<{ template: string; entries: PathEntry[] }> {
  const groups = new Map<string, PathEntry[]>(); // `/job/{}` → the entries of that shape
  for (const e of entries) {
    const skeleton = e.template.replace(/\{[^}]+\}/g, "{}");
    groups.set(skeleton, [...(groups.get(skeleton) ?? []), e]);
  }
  return [...groups].map(([skeleton, group]) => {
    let i = 0;
    const template = skeleton.replace(/\{\}/g, () => {
      const names = new Set(group.map((e) => e.paramNames[i] ?? ""));
      i += 1;
      return `{${orName([...names].filter((n) => n !== ""))}}`;
    });
    return { template, entries: group };
  });
}

/** `["jobType", "uuid"]` → `jobTypeOrUuid`; one name stays as it is. */
function orName(names: readonly string[]): string {
  return names.map((n, i) => (i === 0 ? n : `${n.charAt(0).toUpperCase()}${n.slice(1)}`)).join("Or");
}

function operation(doc: OperationDoc, names: readonly string[], ownNames: readonly string[]): Operation {
  const parameters: unknown[] = names.map((name, i) => ({
    name,
    in: "path",
    required: true,
    description: doc.params?.[ownNames[i] ?? name] ?? ownNames[i] ?? name,
    schema: { type: "string" },
  }));
  for (const q of doc.query ?? []) {
    parameters.push({ name: q.name, in: q.in ?? "query", description: q.description, schema: q.schema });
  }
  const ok = doc.ok;
  const responses: Record<string, unknown> = {
    [String(ok.status)]: {
      description: ok.description,
      ...(ok.schema || ok.contentType
        ? { content: { [ok.contentType ?? "application/json"]: { schema: ok.schema ?? {} } } }
        : {}),
    },
  };
  for (const [status, codes] of byStatus(doc.errors ?? [])) {
    responses[String(status)] = { description: codes.join(", "), content: ERROR_CONTENT };
  }
  responses.default = { description: "ZEROG_INTERNAL (500), ZEROG_BACKEND_DOWN (503), …", content: ERROR_CONTENT };
  return {
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            description: doc.body.description,
            content: { "application/json": { schema: doc.body.schema } },
          },
        }
      : {}),
    responses,
  };
}

function bare(route: RouteEntry): OperationDoc {
  return {
    summary: route.summary ?? `${route.method} ${route.url}`,
    ...(route.description ? { description: route.description } : {}),
    tag: "operations",
    ok: { status: 200, description: "OK" },
  };
}

function byStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const out = new Map<number, ErrorCode[]>();
  for (const code of codes) out.set(HTTP_STATUS[code], [...(out.get(HTTP_STATUS[code]) ?? []), code]);
  return out;
}

function errorSchema(): JsonSchema {
  return {
    type: "object",
    required: ["error", "message"],
    properties: {
      error: { type: "string", enum: Object.keys(HTTP_STATUS) },
      message: { type: "string" },
      issues: {
        type: "array",
        description: "for ZEROG_INVALID_PARAMS: each bad field",
        items: { $ref: "#/components/schemas/ParamIssue" },
      },
    },
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
