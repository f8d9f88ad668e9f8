import { afterEach, describe, expect, it } from "vitest";
import { openRedisBackend, type RedisBackend } from "../../src/backends/redis/redis-backend.ts";
import { makeDocument } from "../helpers/documents.ts";
import { deletePrefix, serviceUrl, uniqueNamespace } from "../helpers/services.ts";

const url = await serviceUrl("redis");
const FINISHED_AT = "2026-01-01T00:00:00.000Z";
const BEFORE = "2026-01-02T00:00:00.000Z";

// Skipped only when Redis is not running and CI is not set (serviceUrl fails the run under CI=true).
describe.skipIf(url === null)("redis retention index (lua/doc-delete-finished.lua)", () => {
  const u = url ?? "";
  let prefix = "";
  let b: RedisBackend | undefined;
  const open = async (): Promise<RedisBackend> => {
    prefix = uniqueNamespace();
    b = await openRedisBackend({ url: u, prefix });
    return b;
  };
  afterEach(async () => {
    await b?.close();
    await deletePrefix(u, prefix);
  });

  it("follows every write: in it while finished (by finishedAt), out once set back, deleted or settled elsewhere", async () => {
    const r = await open();
    const admin = r.queue.client;
    const fin = r.datastore.keys.finished("finished", "kept");
    const doc = makeDocument({ jobType: "kept", state: "finished", resultCode: 200, finishedAt: FINISHED_AT });
    const cas = await r.datastore.create(doc);
    expect(await admin.zScore(fin, doc.uuid)).toBe(Date.parse(FINISHED_AT));
    // Set back to queued (a redrive): out of the index.
    const cas2 = await r.datastore.replace({ ...doc, state: "queued", resultCode: -1 }, cas);
    expect(await admin.zScore(fin, doc.uuid)).toBeNull();
    // Failed this time: in the failed one.
    await r.datastore.replace({ ...doc, resultCode: 500 }, cas2);
    expect(await admin.zScore(r.datastore.keys.finished("failed", "kept"), doc.uuid)).toBe(Date.parse(FINISHED_AT));
    await r.datastore.delete(doc.uuid);
    expect(await admin.zCard(r.datastore.keys.finished("failed", "kept"))).toBe(0);

    // A run's settle (job-settle.lua) puts a job in it, as the datastore's own writes do.
    const job = makeDocument({ jobType: "kept", queueName: "q" });
    await r.createJob(job, { ttrSeconds: 60 });
    const taken = await r.reserveJob(["q"], { timeoutMs: 0 });
    const read = await r.datastore.read(job.uuid);
    if (!taken || !read) throw new Error("expected the job");
    const done = { ...read.value, state: "finished" as const, resultCode: 200, finishedAt: FINISHED_AT };
    await r.settle(done, read.cas, taken.entry, { kind: "delete" });
    expect(await admin.zScore(fin, job.uuid)).toBe(Date.parse(FINISHED_AT));
  });

  it("deletes only a document whose hash still says finished with that type and status, whatever the index holds", async () => {
    const r = await open();
    const admin = r.queue.client;
    const fin = r.datastore.keys.finished("finished", "kept");
    const due = makeDocument({ jobType: "kept", state: "finished", resultCode: 200, finishedAt: FINISHED_AT });
    const back = makeDocument({ jobType: "kept", state: "queued", finishedAt: FINISHED_AT });
    await r.datastore.create(due);
    await r.datastore.create(back);
    // An index member left by a writer that did not keep the index (the document is queued now).
    await admin.zAdd(fin, { score: Date.parse(FINISHED_AT), value: back.uuid });
    await admin.zAdd(fin, { score: Date.parse(FINISHED_AT), value: "no-such-job" });
    const deleted = await r.datastore.deleteFinished({
      jobType: "kept",
      status: "finished",
      finishedBefore: BEFORE,
      limit: 10,
    });
    expect(deleted).toBe(1);
    expect(await r.datastore.read(due.uuid)).toBeNull();
    expect((await r.datastore.read(back.uuid))?.value.state).toBe("queued");
    expect(await admin.zCard(fin)).toBe(0);
    // Every index entry of the deleted one went with it.
    expect((await r.datastore.list({})).map((d) => d.uuid)).toEqual([back.uuid]);
  });
});
