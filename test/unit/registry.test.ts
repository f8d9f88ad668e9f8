import { describe, expect, it } from "vitest";
import { BaseJob, InvalidParamsError, JobRegistry, z } from "zerog";
import { FizzBuzzJob } from "../../examples/fizz-buzz-job.ts";
import { isZeroGError } from "../../src/errors.ts";

describe("JobRegistry", () => {
  const registry = new JobRegistry([FizzBuzzJob]);

  it("validates params, applying defaults", () => {
    expect(registry.validate("fizz_buzz", { n: 3 })).toEqual({ n: 3, fizz: 3, buzz: 5 });
  });

  it("lists every bad field", () => {
    let err: unknown;
    try {
      registry.validate("fizz_buzz", { n: "x", fizz: 0, extra: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidParamsError);
    expect((err as InvalidParamsError).issues.map((i) => i.path).sort()).toEqual(["", "fizz", "n"]);
  });

  it("refuses params that are not an object", () => {
    for (const raw of [[1], "x", 3, null]) {
      expect(() => registry.validate("fizz_buzz", raw)).toThrow(/params must be a JSON object/);
    }
  });

  it("refuses an unknown type", () => {
    let err: unknown;
    try {
      registry.validate("nope", {});
    } catch (e) {
      err = e;
    }
    expect(isZeroGError(err, "ZEROG_UNKNOWN_JOB_TYPE")).toBe(true);
  });

  it("refuses things that are not job classes, and duplicate types", () => {
    class NoType extends BaseJob {
      run() {}
    }
    class BadType extends BaseJob {
      static override jobType = "has space";
      run() {}
    }
    class Dup extends BaseJob {
      static override jobType = "fizz_buzz";
      static override schema = z.object({});
      run() {}
    }
    expect(() => new JobRegistry([NoType])).toThrow(/static jobType/);
    expect(() => new JobRegistry([BadType])).toThrow(/static jobType/);
    expect(() => new JobRegistry([{}])).toThrow(/not a job class/);
    expect(() => new JobRegistry([FizzBuzzJob, Dup])).toThrow(/registered twice/);
  });
});
