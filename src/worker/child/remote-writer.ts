import type { JobDocument } from "../../job/document.ts";
import type { JobWriter, Mutation } from "../../job/document-writer.ts";
import type { JobOp } from "../../job/job-ops.ts";

/**
 * A job process's writer: applies each change to its copy of the document at once (so the job
 * reads its own progress) and sends the op to the worker, which persists it. Ops made in one
 * turn of the event loop travel as one message.
 */
export class RemoteWriter implements JobWriter {
  readonly doc: JobDocument;
  readonly #send: (ops: JobOp[]) => void;
  #pending: JobOp[] = [];

  constructor(doc: JobDocument, send: (ops: JobOp[]) => void) {
    this.doc = doc;
    this.#send = send;
  }

  mutate(m: Mutation): void {
    if (!m.op) throw new Error("this change cannot be made from a job process");
    m(this.doc);
    if (this.#pending.length === 0) queueMicrotask(() => this.flush());
    this.#pending.push(m.op);
  }

  /** Sends what is pending; called at the end of a run too, before its result. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const ops = this.#pending;
    this.#pending = [];
    this.#send(ops);
  }
}
