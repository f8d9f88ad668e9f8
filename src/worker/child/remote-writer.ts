import type { JobDocument } from "../../job/document.ts";
import type { JobWriter } from "../../job/document-writer.ts";
import { applyOp, isJobCodeOp, type JobCodeOp, type JobOp } from "../../job/job-op.ts";

/**
 * A job process's writer: applies each change to its copy of the document at once (so the job
 * reads its own progress) and sends the op to the worker, which persists it. Ops made in one
 * turn of the event loop travel as one message.
 */
export class RemoteWriter implements JobWriter {
  readonly doc: JobDocument;
  readonly #send: (ops: JobCodeOp[]) => void;
  #pending: JobCodeOp[] = [];

  constructor(doc: JobDocument, send: (ops: JobCodeOp[]) => void) {
    this.doc = doc;
    this.#send = send;
  }

  mutate(op: JobOp): void {
    if (!isJobCodeOp(op)) throw new Error(`a job process cannot make the change "${op.op}"`);
    applyOp(this.doc, op);
    if (this.#pending.length === 0) queueMicrotask(() => this.flush());
    this.#pending.push(op);
  }

  /** Sends what is pending; called at the end of a run too, before its result. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const ops = this.#pending;
    this.#pending = [];
    this.#send(ops);
  }
}
