import { describe, expect, it } from "vitest";
import { BaseJob, InvalidConfigError, JobRegistry, Server } from "zerog";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { formatJobTypes } from "../../src/cli/jobtypes.ts";

/** A job class in `branch` (null: none). */
function job(jobType: string, branch: string | null, displayName: string | null = null) {
  return class extends BaseJob {
    static override jobType = jobType;
    static override branch = branch;
    static override displayName = displayName;
    run() {
      return 200;
    }
  };
}

describe("job branches in the registry", () => {
  it.each([
    "",
    "/examples",
    "examples/",
    "a//b",
    "a/../b",
    ".",
    "with space",
    "ümlaut",
    "a?b",
    "x".repeat(101),
    Array(17).fill("a").join("/"),
  ])("refuses the branch %j at registration", (branch) => {
    expect(() => new JobRegistry([job("t", branch)])).toThrow(InvalidConfigError);
  });

  it("refuses a branch that is not a string, and a displayName that is not a string", () => {
    expect(() => new JobRegistry([job("t", 5 as unknown as string)])).toThrow(/static branch must be a string/);
    expect(() => new JobRegistry([job("t", null, 5 as unknown as string)])).toThrow(/displayName must be a string/);
  });

  it("accepts URL-safe segments, nested", () => {
    const reg = new JobRegistry([job("a", "examples"), job("b", "media/images.v2/x-y_z"), job("c", null)]);
    expect(reg.branchTree().allBranches()).toEqual([
      ["examples"],
      ["media"],
      ["media", "images.v2"],
      ["media", "images.v2", "x-y_z"],
    ]);
    expect(reg.branchTree().leaves(["media"])).toEqual([]);
    expect(reg.branchTree().leaves(["nope"])).toBeNull();
  });

  it("refuses a path that would be both a job type and a branch, whichever is registered first", () => {
    expect(() => new JobRegistry([job("images", "media"), job("resize", "media/images")])).toThrow(
      /passes through 'media\/images', which is job type 'images'/,
    );
    expect(() => new JobRegistry([job("resize", "media/images"), job("images", "media")])).toThrow(
      /'media\/images' would be both this job type and a branch/,
    );
    // The same job type in two branches is still one job type registered twice.
    expect(() => new JobRegistry([job("t", "a"), job("t", "b")])).toThrow(/registered twice/);
  });

  it("names a leaf by displayName, else by its class name", () => {
    class Named extends BaseJob {
      static override jobType = "named";
      static override branch = "x";
      run() {
        return 200;
      }
    }
    const reg = new JobRegistry([Named, job("shown", "x", "Shown nicely")]);
    expect(
      reg
        .branchTree()
        .leaves(["x"])
        ?.map((l) => l.name),
    ).toEqual(["Named", "Shown nicely"]);
  });

  it("a branch starting like another route (/workers, /job, …) fails the server's start", async () => {
    for (const top of ["workers", "job", "progress", "jobtypes", "docs", "ui"]) {
      const backend = new SeparateBackend(new MemoryDatastore(), new MemoryQueue(), { fleet: new MemoryFleetStore() });
      const server = new Server({ jobs: [job("t", `${top}/sub`)], backend, concurrency: 0 });
      await expect(server.start()).rejects.toThrow(
        new RegExp(`starts with '${top}', which the API's /${top} routes use`),
      );
      await server.close();
    }
  });
});

describe("zerog jobtypes' table", () => {
  it("shows type, name, path, params (? optional) and description", () => {
    const out = formatJobTypes([
      {
        jobType: "fizz_buzz",
        name: "FizzBuzzJob",
        description: "Plays fizz buzz",
        branch: "examples",
        path: "examples/fizz_buzz",
        postSchema: { properties: { n: {}, fizz: {} }, required: ["n"] },
      },
      { jobType: "bare", name: "Bare", description: "", branch: null, path: null, postSchema: {} },
    ]);
    expect(out.split("\n")).toEqual([
      "TYPE       NAME         PATH                PARAMS    DESCRIPTION",
      "fizz_buzz  FizzBuzzJob  examples/fizz_buzz  n, fizz?  Plays fizz buzz",
      "bare       Bare         -                   -",
    ]);
    expect(formatJobTypes([])).toBe("no job types");
  });
});
