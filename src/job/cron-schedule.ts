import { CronExpressionParser } from "cron-parser";
import { InvalidConfigError } from "../errors.ts";

/** Time zone of schedules that name none: every server reads a tick the same way, whatever its TZ. */
export const DEFAULT_SCHEDULE_TIMEZONE = "UTC";

/** What a job class may declare to be created on a schedule (read from its statics). */
export interface ScheduleDeclaration {
  /** A cron expression: 5 fields, or 6 with seconds first (cron-parser 5). */
  schedule?: string | null;
  /** Params of each scheduled job; checked against the class's schema at registration. */
  scheduleParams?: Record<string, unknown>;
  /** IANA time zone the expression is read in. @defaultValue "UTC" */
  scheduleTimezone?: string;
}

/** A parsed, valid schedule: `nextAfter` / `latestAtOrBefore` give tick times in ms since the epoch. */
export class CronSchedule {
  readonly expression: string;
  readonly timezone: string;

  private constructor(expression: string, timezone: string) {
    this.expression = expression;
    this.timezone = timezone;
  }

  /** Parses `expression`; InvalidConfigError (naming `owner`) for anything cron-parser refuses. */
  static parse(expression: unknown, timezone: unknown = DEFAULT_SCHEDULE_TIMEZONE, owner = "schedule"): CronSchedule {
    if (typeof expression !== "string" || expression.trim() === "") {
      // cron-parser reads "" as "* * * * *": an empty schedule is a mistake, not "every minute".
      throw new InvalidConfigError(
        `${owner}: static schedule must be a cron expression, got ${JSON.stringify(expression)}`,
      );
    }
    if (typeof timezone !== "string" || timezone === "") {
      throw new InvalidConfigError(`${owner}: static scheduleTimezone must be an IANA time zone name`);
    }
    try {
      new Intl.DateTimeFormat("en", { timeZone: timezone });
    } catch {
      throw new InvalidConfigError(`${owner}: unknown time zone '${timezone}' in static scheduleTimezone`);
    }
    const s = new CronSchedule(expression.trim(), timezone);
    try {
      s.nextAfter(0);
    } catch (err) {
      throw new InvalidConfigError(
        `${owner}: bad cron expression '${expression}' (${timezone}): ${(err as Error).message}`,
      );
    }
    return s;
  }

  /** The first tick strictly after `ms`. */
  nextAfter(ms: number): number {
    return this.#parse(ms).next().getTime();
  }

  /** The last tick at or before `ms`, or null when there is none. */
  latestAtOrBefore(ms: number): number | null {
    // prev() is strictly before its start: start 1 ms later so a tick at exactly `ms` counts.
    const it = this.#parse(ms + 1);
    return it.hasPrev() ? it.prev().getTime() : null;
  }

  #parse(currentMs: number) {
    return CronExpressionParser.parse(this.expression, { currentDate: new Date(currentMs), tz: this.timezone });
  }
}

/** The class's schedule, validated (InvalidConfigError), or null when it declares none. */
export function scheduleOf(cls: ScheduleDeclaration & { name: string; jobType: string }): CronSchedule | null {
  if (cls.schedule === undefined || cls.schedule === null) return null;
  return CronSchedule.parse(
    cls.schedule,
    cls.scheduleTimezone ?? DEFAULT_SCHEDULE_TIMEZONE,
    `${cls.name} (${cls.jobType})`,
  );
}
