import { beforeAll, describe, expect, it } from "vitest";
import type { JobDocument } from "zerog";
import { type RunningCli, runCli } from "../helpers/cli.ts";
import { useServeOnSqlite } from "../helpers/serve-sqlite.ts";

/** `zerog retry` and `zerog purge`, run as a user runs them, against a `zerog serve` with one worker slot. */
const served = useServeOnSqlite(["test/helpers/test-jobs.ts"], ["--concurrency", "1"]);
let serve: RunningCli;
beforeAll(() => {
  serve = served.server;
});

const zerog = (...args: string[]) => runCli([...args, "--url", serve.url]);
const dump = async (uuid: string) =>
  (await (await fetch(`${serve.url}/dump/${uuid}?showLogs=true`)).json()) as JobDocument;
/** Waits until the job's run after its `n`-th retry has finished. */
const retriedAndFinished = (uuid: string, n: number) =>
  expect
    .poll(
      async () => {
        const d = await dump(uuid);
        return d.state === "finished" && d.events.filter((e) => e.msg === "Retried by user").length;
      },
      { timeout: 15_000 },
    )
    .toBe(n);
/** Submits a `fragile` job and follows it to its failure (result 500: exit 1); resolves with its uuid. */
const failedJob = async () => {
  const r = await zerog("submit", "fragile", "{}", "--follow");
  expect(r.code).toBe(1);
  return r.stdout.split("\n")[0]?.trim() ?? "";
};

describe("zerog retry", () => {
  it("retries one failed job by uuid, and every failed job of a type with --state", async () => {
    const a = await failedJob();
    expect(await zerog("retry", a)).toEqual({ code: 0, stdout: `${a}: retried\n`, stderr: "" });
    await retriedAndFinished(a, 1);
    expect(await dump(a)).toMatchObject({ resultCode: 500, errorCount: 1, attempt: 3 });

    const b = await failedJob();
    expect(await zerog("retry", "--type", "fragile", "--state", "failed")).toEqual({
      code: 0,
      stdout: "retried 2 jobs\n",
      stderr: "",
    });
    await retriedAndFinished(a, 2);
    await retriedAndFinished(b, 1);
    expect(await zerog("retry", "--type", "return_value", "--state", "killed")).toMatchObject({
      code: 0,
      stdout: "retried 0 jobs\n",
    });
  });

  it("says what is wrong, and exits 2", async () => {
    const ok = (await zerog("submit", "return_value", '{"ret": 200}', "--follow")).stdout.split("\n")[0]?.trim();
    const refused = await zerog("retry", ok ?? "");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/409 job '.*' is finished: only a failed or killed job can be retried/);
    for (const args of [[], [ok ?? "", "--state", "failed"]]) {
      const r = await zerog("retry", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/^zerog: .*(uuid|state)/);
    }
  });
});

describe("zerog purge", () => {
  it("removes a finished job; the job is then unknown", async () => {
    const uuid = await failedJob();
    expect(await zerog("purge", uuid)).toEqual({ code: 0, stdout: `${uuid}: purged\n`, stderr: "" });
    const gone = await zerog("status", uuid);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/404 no job with uuid/);
  });
});
