import type { z } from "zod";
import { InvalidConfigError, InvalidParamsError, type ParamIssue, UnknownJobTypeError } from "../errors.ts";
import type { JobClass } from "./base-job.ts";
import { BranchTree } from "./branches.ts";
import { scheduleOf } from "./cron-schedule.ts";
import { resolveRetentionPolicy } from "./retention-policy.ts";
import { resolveRetryPolicy } from "./retry-policy.ts";

/** Job type names appear in URLs and queue bodies, so keep them URL-safe. */
const JOB_TYPE_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** Maps job types to their classes and validates params against each class's schema. */
export class JobRegistry {
  readonly #classes = new Map<string, JobClass>();

  constructor(classes: Iterable<unknown> = []) {
    for (const cls of classes) this.register(cls);
  }

  /** Adds a job class; refuses anything that is not a usable job class, and duplicate types. */
  register(cls: unknown): this {
    const checked = asJobClass(cls);
    const existing = this.#classes.get(checked.jobType);
    if (existing && existing !== checked) {
      throw new InvalidConfigError(
        `job type '${checked.jobType}' is registered twice (${existing.name}, ${checked.name})`,
      );
    }
    checkSchedule(checked);
    if (checked.retry != null) resolveRetryPolicy(checked.retry, `${checked.name} (${checked.jobType})`);
    if (checked.retention != null) resolveRetentionPolicy(checked.retention, `${checked.name} (${checked.jobType})`);
    // A malformed branch, or a path that would be both a branch and a job type, fails here.
    new BranchTree([...this.#classes.values()].filter((c) => c !== checked).concat(checked));
    this.#classes.set(checked.jobType, checked);
    return this;
  }

  get(jobType: string): JobClass | undefined {
    return this.#classes.get(jobType);
  }

  /** The class for `jobType`, or UnknownJobTypeError. */
  require(jobType: string): JobClass {
    const cls = this.#classes.get(jobType);
    if (!cls) throw new UnknownJobTypeError(jobType);
    return cls;
  }

  /** Discovery's tree of branches and job types, as registered now. */
  branchTree(): BranchTree {
    return new BranchTree(this.#classes.values());
  }

  types(): string[] {
    return [...this.#classes.keys()].sort();
  }

  classes(): JobClass[] {
    return this.types().map((t) => this.require(t));
  }

  /** Validated params with defaults applied, or InvalidParamsError listing every bad field. */
  validate(jobType: string, raw: unknown): Record<string, unknown> {
    const cls = this.require(jobType);
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new InvalidParamsError([{ path: "", message: "params must be a JSON object" }]);
    }
    const parsed = cls.schema.safeParse(raw);
    if (!parsed.success) throw new InvalidParamsError(issuesOf(parsed.error));
    return parsed.data;
  }
}

/** A bad cron expression or bad schedule params fail at registration: the server never starts with them. */
function checkSchedule(cls: JobClass): void {
  if (!scheduleOf(cls)) return;
  const parsed = cls.schema.safeParse(cls.scheduleParams ?? {});
  if (!parsed.success) {
    const why = new InvalidParamsError(issuesOf(parsed.error)).message;
    throw new InvalidConfigError(`${cls.name} (${cls.jobType}): static scheduleParams: ${why}`);
  }
}

function issuesOf(error: z.ZodError): ParamIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

function asJobClass(cls: unknown): JobClass {
  const name = typeof cls === "function" ? cls.name || "(anonymous class)" : String(cls);
  if (typeof cls !== "function") throw new InvalidConfigError(`${name} is not a job class`);
  const c = cls as Partial<JobClass> & { prototype: { run?: unknown } };
  if (typeof c.jobType !== "string" || !JOB_TYPE_PATTERN.test(c.jobType)) {
    throw new InvalidConfigError(`${name}: static jobType must be 1-100 letters, digits, '_', '-' or '.'`);
  }
  if (typeof c.schema?.safeParse !== "function") {
    throw new InvalidConfigError(`${name}: static schema must be a zod schema`);
  }
  if (typeof c.prototype.run !== "function") throw new InvalidConfigError(`${name}: run() is missing`);
  if (typeof c.maxErrors !== "number") throw new InvalidConfigError(`${name}: must extend BaseJob`);
  return c as JobClass;
}
