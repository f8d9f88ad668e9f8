import { z } from "zod";
import type { JobClass } from "./base-job.ts";

/** A JSON Schema (draft 2020-12) object. */
export type JsonSchema = Record<string, unknown>;

const cache = new WeakMap<JobClass, JsonSchema>();

/**
 * The JSON Schema of what a client POSTs for this job type: zod's input side (fields with a
 * default are optional). Parts zod cannot express (a `z.date()`, a custom check) become `{}`,
 * "anything", instead of failing discovery; the server's zod validation still applies to them.
 * Computed once per class.
 */
export function paramsJsonSchema(cls: JobClass): JsonSchema {
  let schema = cache.get(cls);
  if (!schema) {
    schema = z.toJSONSchema(cls.schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    cache.set(cls, schema);
  }
  return schema;
}
