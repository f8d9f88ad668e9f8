import type { JobDocument } from "../../src/job/document.ts";
import { newJobDocument } from "../../src/job/new-document.ts";

let seq = 0;

/** A fresh job document; `createdAt` grows by one second per call so listings have a stable order. */
export function makeDocument(overrides: Partial<JobDocument> = {}): JobDocument {
  seq += 1;
  const doc = newJobDocument({
    jobType: "test_job",
    params: { n: seq },
    queueName: "test_jobs",
    queueKwargs: { priority: 1024, ttrSeconds: 60 },
    nowMs: Date.UTC(2026, 0, 1) + seq * 1000,
  });
  return { ...doc, ...overrides };
}
