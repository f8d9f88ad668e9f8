import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { BeanstalkClient, type BeanstalkClientOptions } from "../../src/backends/beanstalkd/client.ts";
import type { ReserveResult } from "../../src/backends/beanstalkd/commands.ts";
import { isZeroGError } from "../../src/errors.ts";
import { privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { until } from "../helpers/wait.ts";

// Skipped only when the beanstalkd binary is missing and CI is not set (the helper fails the run under CI=true).
const server = await privateBeanstalkd();

/** Bodies the framing must carry untouched: line breaks, protocol words, every byte value, non-ASCII text. */
const AWKWARD_BODIES: Buffer[] = [
  Buffer.from(""),
  Buffer.from("\r\n"),
  Buffer.from("a\r\nb\r\n\r\n"),
  Buffer.from("RESERVED 1 5\r\nINSERTED 2\r\n"),
  Buffer.from("héllo ✓ 日本語 🚀", "utf8"),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  randomBytes(60_000),
];

const reservedBody = (r: ReserveResult): Buffer => {
  if (r.kind !== "reserved") throw new Error(`expected a job, got ${r.kind}`);
  return r.job.body;
};

describe.skipIf(server === null)("beanstalkd protocol client", () => {
  const clients: BeanstalkClient[] = [];
  const client = (opts: Partial<BeanstalkClientOptions> = {}): BeanstalkClient => {
    const c = new BeanstalkClient({ host: server?.host ?? "", port: server?.port ?? 0, ...opts });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    server?.resume();
    await server?.restart(); // empty, and running even if the last test stopped it
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(() => server?.destroy());

  it("answers overlapping commands with bodies on one connection, each with its own reply", async () => {
    const c = client();
    const bodies = Array.from({ length: 300 }, (_, i) => AWKWARD_BODIES[i % AWKWARD_BODIES.length] ?? Buffer.alloc(0));
    // Nothing awaited until every put is sent: they go out pipelined and come back in order.
    const ids = await Promise.all(bodies.map((b, i) => c.put(b, { priority: i, delaySeconds: 0, ttrSeconds: 60 })));
    expect(new Set(ids).size).toBe(bodies.length);
    // Peeks (FOUND with a body) and stats (OK with a body) interleaved, all in flight at once.
    const [peeks, stats] = await Promise.all([
      Promise.all(ids.map((id) => c.peek(id))),
      Promise.all(ids.map((id) => c.statsJob(id))),
    ]);
    peeks.forEach((p, i) => {
      expect(p?.id).toBe(ids[i]);
      expect(p?.body.equals(bodies[i] ?? Buffer.alloc(0))).toBe(true);
    });
    stats.forEach((s, i) => {
      expect(s?.id).toBe(ids[i]);
      expect(s?.pri).toBe(i);
    });
  });

  it("round-trips bodies with \\r\\n, non-ASCII and binary bytes through put and reserve", async () => {
    const producer = client();
    const consumer = client();
    for (const body of AWKWARD_BODIES) await producer.put(body, { priority: 0, delaySeconds: 0, ttrSeconds: 60 });
    for (const body of AWKWARD_BODIES) {
      const got = reservedBody(await consumer.reserveWithTimeout(1));
      expect(got.equals(body)).toBe(true);
    }
    expect((await consumer.reserveWithTimeout(0)).kind).toBe("timed-out");
  });

  it("keeps the connection usable after the replies a command may get (NOT_FOUND, NOT_IGNORED, JOB_TOO_BIG)", async () => {
    const c = client();
    expect(await c.delete("999999")).toBe(false);
    expect(await c.statsJob("999999")).toBeNull();
    expect(await c.statsTube("no-such-tube")).toBeNull();
    const notIgnored = await c.ignore("default").catch((e: unknown) => e);
    expect(isZeroGError(notIgnored, "ZEROG_INTERNAL")).toBe(true);
    expect(String(notIgnored)).toMatch(/NOT_IGNORED/);
    // The server's default max job size is 65535 bytes; it skips the body and stays in frame.
    const tooBig = await c.put(Buffer.alloc(70_000), { priority: 0, delaySeconds: 0, ttrSeconds: 60 }).catch((e) => e);
    expect(isZeroGError(tooBig, "ZEROG_BODY_TOO_LARGE")).toBe(true);
    const id = await c.put("after", { priority: 0, delaySeconds: 0, ttrSeconds: 60 });
    expect((await c.peek(id))?.body.toString()).toBe("after");
    expect(await c.listTubesWatched()).toEqual(["default"]);
  });

  it("refuses a bad tube name without sending it", async () => {
    const c = client();
    await expect(c.use("bad name\r\nquit")).rejects.toThrow(RangeError);
    await expect(c.watch("-leading-dash")).rejects.toThrow(RangeError);
    expect(await c.listTubeUsed()).toBe("default");
  });

  it("rejects an in-flight reserve promptly when the server dies", async () => {
    const c = client();
    await c.connect();
    const pending = c.reserve().catch((e: unknown) => e); // no timeout: only the server going away can end it
    const started = Date.now();
    await server?.stop("SIGKILL");
    const err = await pending;
    expect(isZeroGError(err, "ZEROG_BACKEND_DOWN")).toBe(true);
    expect(String(err)).toMatch(/beanstalkd is unavailable: connection to .* lost/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("rejects a call whose reply is overdue and drops the connection, then reconnects", async () => {
    const c = client({ callTimeoutMs: 300 });
    await c.connect();
    const generation = c.generation;
    server?.pause(); // the socket stays open, nothing answers
    const started = Date.now();
    const err = await c.listTubes().catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(isZeroGError(err, "ZEROG_BACKEND_DOWN")).toBe(true);
    expect(String(err)).toMatch(/no reply to 'list-tubes' .* within 300 ms/);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2000);
    expect(c.isOpen).toBe(false);
    server?.resume();
    expect(await c.listTubes()).toContain("default");
    expect(c.generation).toBe(generation + 1);
  });

  it("gives a reserve-with-timeout its timeout plus the margin before giving up on it", async () => {
    const c = client({ reserveMarginMs: 300 });
    await c.connect();
    server?.pause();
    const started = Date.now();
    const err = await c.reserveWithTimeout(1).catch((e: unknown) => e);
    const waited = Date.now() - started;
    server?.resume();
    expect(isZeroGError(err, "ZEROG_BACKEND_DOWN")).toBe(true);
    expect(String(err)).toMatch(/no reply to 'reserve-with-timeout 1' .* within 1300 ms/);
    expect(waited).toBeGreaterThanOrEqual(1290);
    expect(waited).toBeLessThan(3000);
  });

  it("replays use and watch after the server restarts", async () => {
    const c = client();
    await Promise.all([c.use("alpha"), c.watch("beta"), c.ignore("default")]);
    expect(await c.listTubesWatched()).toEqual(["beta"]);
    await server?.restart();
    // The first call after the restart reconnects; use and watch go out before it.
    const id = await c.put("into-alpha", { priority: 0, delaySeconds: 0, ttrSeconds: 60 });
    expect(await c.listTubeUsed()).toBe("alpha");
    expect(await c.listTubesWatched()).toEqual(["beta"]);
    expect((await c.statsJob(id))?.tube).toBe("alpha");
    const other = client();
    await other.put("in-default", { priority: 0, delaySeconds: 0, ttrSeconds: 60 });
    await other.use("beta");
    await other.put("in-beta", { priority: 0, delaySeconds: 0, ttrSeconds: 60 });
    expect(reservedBody(await c.reserveWithTimeout(1)).toString()).toBe("in-beta");
    expect((await c.reserveWithTimeout(0)).kind).toBe("timed-out");
  });

  it("fails with BackendDownError after bounded retries while the server stays down, and recovers", async () => {
    const c = client({ connectAttempts: 3, retryBaseMs: 20, retryMaxMs: 40 });
    await c.connect();
    await server?.stop();
    await until(async () => (c.isOpen ? undefined : true), "the client to see the server hang up");
    const started = Date.now();
    const [a, b] = await Promise.all([
      c.put("x", { priority: 0, delaySeconds: 0, ttrSeconds: 60 }).catch((e: unknown) => e),
      c.listTubes().catch((e: unknown) => e),
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const err of [a, b]) {
      expect(isZeroGError(err, "ZEROG_BACKEND_DOWN")).toBe(true);
      expect(String(err)).toMatch(/beanstalkd is unavailable: cannot connect to 127\.0\.0\.1:\d+ \(3 attempts\)/);
    }
    await server?.start();
    expect(await c.listTubes()).toEqual(["default"]);
  });

  it("rejects every pending call with ClosedError on close, and calls after it", async () => {
    const c = client();
    await c.connect();
    const pending = c.reserve().catch((e: unknown) => e);
    c.close();
    expect(isZeroGError(await pending, "ZEROG_CLOSED")).toBe(true);
    expect(isZeroGError(await c.listTubes().catch((e: unknown) => e), "ZEROG_CLOSED")).toBe(true);
  });

  it("answers the calls made before quit, then closes", async () => {
    const c = client();
    await c.connect();
    const id = c.put("before-quit", { priority: 0, delaySeconds: 0, ttrSeconds: 60 });
    await c.quit();
    expect(await id).toMatch(/^\d+$/);
    expect(c.isOpen).toBe(false);
  });
});
