import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openBackend, Server } from "zerog";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

describe("a backend that is down", () => {
  it("gets 503 with a JSON error, not a hang or a crash", async () => {
    const url = `sqlite:${tempDbPath()}`;
    const backend = await openBackend({ datastore: url, queue: url });
    const server = new Server({ jobs: TEST_JOBS, backend, concurrency: 1, maxBackoffMs: 50 });
    const base = await server.listen({ port: 0 });
    try {
      const ok = await fetch(`${base}/job/return_value`, { method: "POST", body: "{}" });
      expect(ok.status).toBe(201);
      await backend.close();
      const post = await fetch(`${base}/job/return_value`, { method: "POST", body: "{}" });
      expect(post.status).toBe(503);
      expect(await post.json()).toMatchObject({ error: expect.stringMatching(/^ZEROG_(CLOSED|BACKEND_DOWN)$/) });
      const get = await fetch(`${base}/progress/${randomUUID()}`);
      expect(get.status).toBe(503);
      expect(get.headers.get("content-type")).toMatch(/application\/json/);
    } finally {
      await server.close();
    }
  });
});
