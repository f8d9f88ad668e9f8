import type { ErrorCode } from "../../errors.ts";
import type { JsonSchema } from "../../job/params-json-schema.ts";

/** What the OpenAPI document says about one route; `document.ts` turns it into an Operation object. */
export interface OperationDoc {
  summary: string;
  description?: string;
  tag: "jobs" | "discovery" | "fleet" | "operations";
  /** Descriptions of the path parameters, by name. */
  params?: Record<string, string>;
  /** Query-string parameters, and headers (`in: "header"`). */
  query?: Array<{ name: string; description: string; schema: JsonSchema; in?: "query" | "header" }>;
  body?: { description: string; schema: JsonSchema };
  ok: { status: number; description: string; schema?: JsonSchema; contentType?: string };
  /** Error answers besides 500 ZEROG_INTERNAL and 503 ZEROG_BACKEND_DOWN, which any request can get. */
  errors?: ErrorCode[];
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const object = (properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema => ({
  type: "object",
  properties,
  required,
});
const anyObject: JsonSchema = { type: "object" };
const UUID = "the job's uuid";
const WORKER_ID = "a worker id (host:service:pid)";
const HOST = "a host name";
const ACTIONS = ["drain", "undrain", "retire"] as const;

/** POST /job's options, beside the params (create-options.ts). */
const CREATE_OPTIONS: NonNullable<OperationDoc["query"]> = [
  { name: "delay", description: "seconds before the job may start", schema: { type: "integer", minimum: 0 } },
  { name: "priority", description: "lower is more urgent (default 1024)", schema: { type: "integer", minimum: 0 } },
  {
    name: "Idempotency-Key",
    in: "header",
    description: "a repeat within the key's window creates nothing and answers 200 with the first job's uuid",
    schema: { type: "string" },
  },
];
const CREATED = {
  status: 201,
  description: "created and queued (200: an idempotent repeat)",
  schema: ref("JobCreated"),
};
const CREATE_ERRORS: ErrorCode[] = [
  "ZEROG_INVALID_JSON",
  "ZEROG_INVALID_PARAMS",
  "ZEROG_BAD_REQUEST",
  "ZEROG_BODY_TOO_LARGE",
];

/** Shared schemas, under `components.schemas`. */
export const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
  ParamIssue: object({ path: { type: "string" }, message: { type: "string" } }),
  JobCreated: object({ uuid: { type: "string", format: "uuid" } }),
  Progress: object({
    completeness: { type: "number", minimum: 0, maximum: 1 },
    result: { type: "integer", description: "-1 until the job finishes, then its result code" },
  }),
  LogEntry: { type: "object", additionalProperties: true },
  Info: object({
    completeness: { type: "number", description: "1 once the job has finished, whatever its result" },
    result: { type: "integer" },
    state: { type: "string", enum: ["queued", "delayed", "running", "finished"] },
    completenessAtEnd: {
      type: ["number", "null"],
      description: "the completeness the job had reached when it finished (null until then)",
    },
    nextAttemptAt: {
      type: ["string", "null"],
      format: "date-time",
      description: "when a delayed job's next attempt is due (null unless delayed)",
    },
    events: { type: "array", items: ref("LogEntry") },
    errors: { type: "array", items: ref("LogEntry") },
    warnings: { type: "array", items: ref("LogEntry") },
  }),
  Branch: object({ path: { type: "string" }, name: { type: "string" } }),
  Leaf: object({
    path: { type: "string" },
    jobType: { type: "string" },
    name: { type: "string" },
    description: { type: "string" },
  }),
  JobType: object({
    jobType: { type: "string" },
    name: { type: "string" },
    description: { type: "string" },
    branch: { type: ["string", "null"] },
    path: { type: ["string", "null"] },
    postSchema: { type: "object", description: "the params' JSON Schema (draft 2020-12)" },
    paused: { type: "boolean", description: "no worker starts a job of this type until it is resumed" },
  }),
  JobTypePaused: object({ jobType: { type: "string" }, paused: { type: "boolean" } }),
  PostSchema: object({ postSchema: { type: "object", description: "the params' JSON Schema (draft 2020-12)" } }),
  ControlResult: object({ sent: { type: "string" }, workers: { type: "array", items: { type: "string" } } }),
};

/** The generic create: any job type, with an object body (each type's own path has its params schema). */
export const CREATE_ANY: OperationDoc = {
  summary: "Create a job of any registered type",
  description: "The body is the job's params; each job type's own `POST /job/<type>` path gives its params schema.",
  tag: "jobs",
  params: { jobType: "a registered job type" },
  query: CREATE_OPTIONS,
  body: { description: "the job's params", schema: anyObject },
  ok: CREATED,
  errors: [...CREATE_ERRORS, "ZEROG_UNKNOWN_JOB_TYPE"],
};

const uuidRead = (summary: string, schema: JsonSchema): OperationDoc => ({
  summary,
  tag: "jobs",
  params: { uuid: UUID },
  ok: { status: 200, description: "found", schema },
  errors: ["ZEROG_JOB_NOT_FOUND"],
});

/** The API's routes, by `METHOD url` as registered with Fastify. Routes missing here get a bare entry. */
export const KNOWN_OPERATIONS: Record<string, OperationDoc> = {
  "POST /job/:jobType": CREATE_ANY,
  "GET /progress/:uuid": uuidRead("A job's completeness and result", ref("Progress")),
  "GET /info/:uuid": uuidRead("A job's progress and logs", ref("Info")),
  "GET /data/:uuid": uuidRead("A job's output (its class's getData())", {}),
  "GET /dump/:uuid": {
    ...uuidRead("A job's whole document", anyObject),
    query: [{ name: "showLogs", description: "include events, warnings and errors", schema: { enum: ["true"] } }],
  },
  "POST /job/:uuid/kill": {
    summary: "Kill a job (error 410 'Killed by user')",
    tag: "jobs",
    params: { uuid: UUID },
    ok: { status: 200, description: "killed (was waiting) or already finished; 202 when stopping (running)" },
    errors: ["ZEROG_JOB_NOT_FOUND"],
  },
  "DELETE /job/:uuid": {
    summary: "Cancel or kill a job; with purge=true, remove a finished one",
    tag: "jobs",
    params: { uuid: UUID },
    query: [
      {
        name: "purge",
        description:
          "true: remove the finished job's document instead of cancelling (any other value than true or false is 400)",
        schema: { type: "boolean" },
      },
    ],
    ok: {
      status: 200,
      description: '`{uuid, result: "cancelled"}` (was waiting) or `"purged"`; 202 `"stopping"` (running)',
    },
    errors: ["ZEROG_JOB_NOT_FOUND", "ZEROG_JOB_FINISHED", "ZEROG_JOB_NOT_PURGEABLE", "ZEROG_BAD_REQUEST"],
  },
  "POST /job/:uuid/retry": {
    summary: "Run a failed or killed job again",
    description: "A new attempt, its logs and data kept, event 'Retried by user', errorCount 0, queued.",
    tag: "jobs",
    params: { uuid: UUID },
    ok: { status: 200, description: '`{uuid, result: "retried"}`', schema: anyObject },
    errors: ["ZEROG_BAD_REQUEST", "ZEROG_JOB_NOT_FOUND", "ZEROG_JOB_NOT_RETRYABLE"],
  },
  "POST /jobs": {
    summary: "Create many jobs at once",
    description:
      "Every item is validated first: one bad item (named by its index, `[3].params.width`) is a 400 and creates nothing. Then each job is stored as POST /job stores one, many at once; if the backend fails midway, the jobs stored before stay. With an Idempotency-Key, job i uses the key `<key>:<i>`, so sending the same list again creates only what is missing and answers the same uuids. The options apply to every job.",
    tag: "jobs",
    query: CREATE_OPTIONS,
    body: {
      description: "1 to 10000 jobs: `[{jobType, params}]` (params may be left out: the schema's defaults)",
      schema: {
        type: "array",
        minItems: 1,
        maxItems: 10_000,
        items: object({ jobType: { type: "string" }, params: anyObject }, ["jobType"]),
      },
    },
    ok: {
      status: 201,
      description: "`{uuids, created}`: the jobs' uuids in the order sent, and how many are new (200 when none is)",
      schema: object({
        uuids: { type: "array", items: { type: "string", format: "uuid" } },
        created: { type: "integer" },
      }),
    },
    errors: CREATE_ERRORS,
  },
  "POST /jobs/retry": {
    summary: "Run the failed (or killed) jobs again, newest first",
    tag: "jobs",
    query: [
      { name: "state", description: "failed or killed (required)", schema: { enum: ["failed", "killed"] } },
      { name: "type", description: "only this job type", schema: { type: "string" } },
      {
        name: "createdBefore",
        description: "only jobs created before this time (ISO-8601 date, or date-time with its zone)",
        schema: { type: "string", format: "date-time" },
      },
      {
        name: "limit",
        description: "most jobs to retry (default and maximum 10000)",
        schema: { type: "integer", minimum: 1, maximum: 10_000 },
      },
    ],
    ok: { status: 200, description: "`{retried: n}`: how many jobs were retried", schema: anyObject },
    errors: ["ZEROG_BAD_REQUEST"],
  },
  "GET /jobs": {
    summary: "List jobs, newest first, a page at a time",
    tag: "jobs",
    query: [
      { name: "type", description: "only this job type", schema: { type: "string" } },
      {
        name: "state",
        description: "queued, delayed, running, finished, failed or killed",
        schema: { enum: ["queued", "delayed", "running", "finished", "failed", "killed"] },
      },
      { name: "limit", description: "jobs per page", schema: { type: "integer", minimum: 1 } },
      { name: "cursor", description: "the previous page's next cursor", schema: { type: "string" } },
    ],
    ok: { status: 200, description: "a page of jobs", schema: anyObject },
    errors: ["ZEROG_BAD_REQUEST"],
  },
  "GET /events/:uuid": {
    summary: "A job's progress, logs and result as Server-Sent Events",
    tag: "jobs",
    params: { uuid: UUID },
    ok: { status: 200, description: "an event stream", contentType: "text/event-stream" },
    errors: ["ZEROG_JOB_NOT_FOUND"],
  },
  "GET /branches": {
    summary: "The top-level branches",
    tag: "discovery",
    ok: { status: 200, description: "branches", schema: { type: "array", items: ref("Branch") } },
  },
  "GET /jobtypes": {
    summary: "Every job type with its params' JSON Schema",
    tag: "discovery",
    ok: { status: 200, description: "job types", schema: { type: "array", items: ref("JobType") } },
  },
  "GET /openapi.json": {
    summary: "This document",
    tag: "discovery",
    ok: { status: 200, description: "an OpenAPI 3.1 document", schema: anyObject },
  },
  "GET /workers": {
    summary: "Live workers per host, whether each host is drained, and the queue depth",
    tag: "fleet",
    ok: { status: 200, description: "the fleet", schema: anyObject },
  },
  "GET /workers/:id": {
    summary: "One live worker",
    tag: "fleet",
    params: { id: WORKER_ID },
    ok: { status: 200, description: "the worker's record", schema: anyObject },
    errors: ["ZEROG_WORKER_NOT_FOUND"],
  },
  "GET /hosts/:host": {
    summary: "One host's workers and whether it is drained",
    tag: "fleet",
    params: { host: HOST },
    ok: { status: 200, description: "the host's summary", schema: anyObject },
    errors: ["ZEROG_HOST_NOT_FOUND"],
  },
  ...Object.fromEntries(
    ACTIONS.flatMap((a) => [
      [
        `POST /workers/:id/${a}`,
        {
          summary: `Tell a worker to ${a}`,
          tag: "fleet",
          params: { id: WORKER_ID },
          ok: { status: 202, description: "sent; workers apply it within controlPollMs", schema: ref("ControlResult") },
          errors: ["ZEROG_WORKER_NOT_FOUND", "ZEROG_WORKER_RETIRED"],
        } satisfies OperationDoc,
      ],
      [
        `POST /hosts/:host/${a}`,
        {
          summary: `Tell every worker on a host to ${a}`,
          tag: "fleet",
          params: { host: HOST },
          ok: { status: 202, description: "sent; workers apply it within controlPollMs", schema: ref("ControlResult") },
          errors: ["ZEROG_HOST_NOT_FOUND", "ZEROG_WORKER_RETIRED"],
        } satisfies OperationDoc,
      ],
    ]),
  ),
  ...Object.fromEntries(
    (["pause", "resume"] as const).map((a) => [
      `POST /jobtypes/:jobType/${a}`,
      {
        summary:
          a === "pause"
            ? "Pause a job type: no server starts its jobs (creates are still accepted and wait)"
            : "Resume a paused job type: its waiting jobs start",
        description: "Idempotent. Kept in the backend; every worker applies it within its control poll (500 ms).",
        tag: "fleet",
        params: { jobType: "a job type this server serves" },
        ok: { status: 200, description: "the job type's new state", schema: ref("JobTypePaused") },
        errors: ["ZEROG_UNKNOWN_JOB_TYPE"],
      } satisfies OperationDoc,
    ]),
  ),
  "GET /health": {
    summary: "Whether the backend is reachable",
    tag: "operations",
    ok: { status: 200, description: "healthy (503 when the backend is down)", schema: anyObject },
  },
  "GET /metrics": {
    summary: "Prometheus metrics",
    tag: "operations",
    ok: { status: 200, description: "Prometheus text format", contentType: "text/plain" },
  },
};

/** Discovery's per-branch and per-leaf operations (documented for each branch and job type). */
export const DISCOVERY_OPERATIONS = {
  branches: (branch: string): OperationDoc => ({
    summary: `Sub-branches of the ${branch} branch`,
    tag: "discovery",
    ok: { status: 200, description: "branches", schema: { type: "array", items: ref("Branch") } },
  }),
  leaves: (branch: string): OperationDoc => ({
    summary: `Job types in the ${branch} branch`,
    tag: "discovery",
    ok: { status: 200, description: "leaves", schema: { type: "array", items: ref("Leaf") } },
  }),
  postSchema: (path: string): OperationDoc => ({
    summary: `The JSON Schema of the params of ${path}`,
    tag: "discovery",
    ok: { status: 200, description: "the schema", schema: ref("PostSchema") },
  }),
  // No article before the type: "a" or "an" goes by its sound, which its letters do not tell
  // ("an upload job", "a user_sync job").
  create: (jobType: string, description: string, params: JsonSchema): OperationDoc => ({
    summary: `Create a job of type ${jobType}`,
    ...(description ? { description } : {}),
    tag: "jobs",
    query: CREATE_OPTIONS,
    body: { description: "the job's params", schema: params },
    ok: CREATED,
    errors: CREATE_ERRORS,
  }),
};
