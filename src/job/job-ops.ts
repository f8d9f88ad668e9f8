import type { Mutation } from "./document-writer.ts";
import * as t from "./transitions.ts";

/**
 * The changes job code makes (progress, logs, output) as plain data, so a job running in a
 * child process can send them to the worker, which applies them through its DocumentWriter
 * under the same CAS rules as an in-process run.
 */
export type JobOp =
  | { op: "addEvent"; msg: string; at: string }
  | { op: "addWarning"; msg: string; at: string }
  | { op: "addError"; errorCode: number; msg: string; at: string }
  | { op: "setCompleteness"; x: number }
  | { op: "addToCompleteness"; delta: number; ticks: number }
  | { op: "setTickValue"; v: number }
  | { op: "setData"; data: unknown };

/** The mutation an op stands for (the same function job code gets in process). */
export function mutationOf(op: JobOp): Mutation {
  switch (op.op) {
    case "addEvent":
      return t.addEvent(op.msg, op.at);
    case "addWarning":
      return t.addWarning(op.msg, op.at);
    case "addError":
      return t.addError(op.errorCode, op.msg, op.at);
    case "setCompleteness":
      return t.setCompleteness(op.x);
    case "addToCompleteness":
      return t.addToCompleteness(op.delta, op.ticks);
    case "setTickValue":
      return t.setTickValue(op.v);
    case "setData":
      return t.setData(op.data);
  }
}
