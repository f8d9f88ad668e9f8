import { afterEach, describe, expect, it } from "vitest";
import { openBackend } from "zerog";
import { parseBackendUrl } from "../../src/backends/backend-url.ts";
import { keyspaceOf } from "../../src/backends/couchbase/couchbase-url.ts";
import { openCouchbaseDatastore, PASSWORD_ENV, sdkLoadError } from "../../src/backends/couchbase/open-couchbase.ts";
import { indexStatements } from "../../src/backends/couchbase/statements.ts";
import { isZeroGError } from "../../src/errors.ts";
import { redactUrl } from "../../src/internal/redact.ts";

const codeOf = (err: unknown) => (isZeroGError(err) ? err.code : err);
const failure = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
};

describe("couchbase:// URLs", () => {
  it("parses the host, bucket, ZeroG's parameters and their defaults", () => {
    expect(parseBackendUrl("couchbase://cb1.internal/jobs?username=zerog")).toEqual({
      scheme: "couchbase",
      connStr: "couchbase://cb1.internal",
      bucket: "jobs",
      scope: "_default",
      collection: "_default",
      username: "zerog",
      password: null,
      durability: "none",
      createIndexes: true,
    });
  });

  it("keeps host lists, TLS and the SDK's own parameters in the connection string", () => {
    const url = parseBackendUrl(
      "couchbases://h1:11207,h2:11207/jobs?username=u&password=p%40ss&scope=app&collection=zerog_jobs&durability=majority&createIndexes=false&kv_timeout=5s",
    );
    expect(url).toEqual({
      scheme: "couchbase",
      connStr: "couchbases://h1:11207,h2:11207?kv_timeout=5s",
      bucket: "jobs",
      scope: "app",
      collection: "zerog_jobs",
      username: "u",
      password: "p@ss",
      durability: "majority",
      createIndexes: false,
    });
    expect(url.scheme === "couchbase" && keyspaceOf(url)).toBe("`jobs`.`app`.`zerog_jobs`");
  });

  it("refuses what it cannot use, saying why, and never repeats a password", () => {
    const cases: [string, RegExp][] = [
      ["couchbase://h?username=u", /must look like couchbase:\/\/host\/bucket\?username=name/],
      ["couchbase://h/?username=u", /needs a bucket name/],
      ["couchbase://h/b", /needs \?username=/],
      ["couchbase://h/b?username=", /needs \?username=/],
      ["couchbase://u:secret@h/b?username=u", /not before the host/],
      ["couchbase://h/b?username=u&scope=_system", /scope '_system'/],
      ["couchbase://h/b?username=u&collection=a`b", /collection 'a`b'/],
      ["couchbase://h/b?username=u&durability=all", /durability 'all'.*none, majority/],
      ["couchbase://h/b?username=u&createIndexes=yes", /createIndexes .* true or false/],
      ["couchbase://h/b`x?username=u&password=secret", /needs a bucket name/],
    ];
    for (const [url, message] of cases) {
      const err = failure(() => parseBackendUrl(url));
      expect(codeOf(err), url).toBe("ZEROG_INVALID_CONFIG");
      expect(String(err), url).toMatch(message);
      expect(String(err), url).not.toContain("secret");
    }
  });

  it("is a datastore only: a couchbase:// queue URL is refused before anything is opened", async () => {
    const err = await openBackend({ datastore: "memory:", queue: "couchbase://h/b?username=u" }).catch(
      (e: unknown) => e,
    );
    expect(codeOf(err)).toBe("ZEROG_INVALID_CONFIG");
    expect(String(err)).toMatch(/datastore only .* use it as the datastore URL/);
  });

  it("masks the password in URLs written to logs", () => {
    expect(redactUrl("couchbase://h1:11210,h2:11210/b?username=u&password=s3cret&scope=x")).toBe(
      "couchbase://h1:11210,h2:11210/b?username=u&password=***&scope=x",
    );
    expect(redactUrl("postgres://zerog:s3cret@db/app")).toBe("postgres://zerog:***@db/app");
    expect(redactUrl("sqlite:./zerog.db")).toBe("sqlite:./zerog.db");
  });
});

describe("opening a Couchbase datastore", () => {
  const saved = process.env[PASSWORD_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[PASSWORD_ENV];
    else process.env[PASSWORD_ENV] = saved;
  });

  it("needs a password, from the URL or ZEROG_COUCHBASE_PASSWORD", async () => {
    delete process.env[PASSWORD_ENV];
    const err = await openCouchbaseDatastore({ url: "couchbase://127.0.0.1/b?username=zerog" }).catch(
      (e: unknown) => e,
    );
    expect(codeOf(err)).toBe("ZEROG_INVALID_CONFIG");
    expect(String(err)).toMatch(/no password for user 'zerog': set ZEROG_COUCHBASE_PASSWORD/);
  });

  it("fails with ZEROG_BACKEND_DOWN when no cluster answers (the real SDK, no server)", async () => {
    process.env[PASSWORD_ENV] = "not-used";
    // Port 1 is closed: the SDK's bootstrap gives up after the timeout the connection string sets.
    const url = "couchbase://127.0.0.1:1/zerog?username=u&bootstrap_timeout=1000ms";
    const err = await openCouchbaseDatastore({ url }).catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ZEROG_BACKEND_DOWN");
    expect(String(err)).toMatch(/couchbase is unavailable: unambiguous timeout/);
    const viaBackend = await openBackend({ datastore: url, queue: "memory:" }).catch((e: unknown) => e);
    expect(codeOf(viaBackend)).toBe("ZEROG_BACKEND_DOWN");
  });

  it("says what to install when the couchbase package is missing", () => {
    const missing = Object.assign(new Error("Cannot find package 'couchbase'"), { code: "ERR_MODULE_NOT_FOUND" });
    expect(sdkLoadError(missing).message).toBe("couchbase:// URLs need the couchbase package: install couchbase@4.7.0");
    expect(sdkLoadError(new Error("no native binding for linux-x64")).message).toMatch(
      /could not be loaded \(no native binding for linux-x64\); install couchbase@4\.7\.0/,
    );
  });

  it("reads its indexes from indexes.n1ql, for the datastore's keyspace", () => {
    const indexes = indexStatements("`jobs`.`app`.`zerog_jobs`");
    expect(indexes.map((i) => i.name)).toEqual([
      "zerog_jobs_by_created_uuid",
      "zerog_jobs_by_type_created",
      "zerog_jobs_by_status",
      "zerog_jobs_by_type_status",
      "zerog_jobs_by_finished",
      "zerog_fleet_workers",
    ]);
    for (const { statement } of indexes) {
      expect(statement).toMatch(/^CREATE INDEX IF NOT EXISTS `zerog_\w+` ON `jobs`\.`app`\.`zerog_jobs`\(/);
      expect(statement).not.toContain("{{keyspace}}");
    }
  });
});
