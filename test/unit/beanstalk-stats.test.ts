import { describe, expect, it } from "vitest";
import { parseJobStats, parseServerStats, parseTubeStats } from "../../src/backends/beanstalkd/stats.ts";

/** A stats-job reply's body as beanstalkd 1.12 writes it, for a job on `tube`. */
const jobStats = (tube: string): Buffer =>
  Buffer.from(
    `---\nid: 7\ntube: ${tube}\nstate: reserved\npri: 1024\nage: 3\ndelay: 0\nttr: 60\ntime-left: 59\nfile: 0\nreserves: 1\ntimeouts: 0\nreleases: 0\nburies: 0\nkicks: 0\n`,
  );

describe("beanstalkd stats replies", () => {
  it("reads a stats-job reply, every tube name as the text it is", () => {
    for (const tube of ["zerog_jobs/resize", "123", "null", "true", "(a)$b;c+d.e", "1e3", "0x10"]) {
      const s = parseJobStats(jobStats(tube));
      expect(s.tube).toBe(tube);
      expect(s).toMatchObject({ id: "7", state: "reserved", pri: 1024, ttr: 60, timeLeft: 59, reserves: 1 });
    }
  });

  it("reads a reply it cannot take line by line (quoted values) through the YAML parser", () => {
    const body = Buffer.from(
      '---\ncurrent-jobs-urgent: 0\nid: "a1b2"\nuptime: 5\npid: 42\nversion: "1.12"\ncmd-touch: 3\ncmd-delete: 4\n',
    );
    expect(parseServerStats(body)).toEqual({
      id: "a1b2",
      uptime: 5,
      pid: 42,
      version: "1.12",
      cmdTouch: 3,
      cmdDelete: 4,
    });
  });

  it("refuses a reply that is not a map, or lacks a field", () => {
    expect(() => parseJobStats(Buffer.from("---\n- a\n- b\n"))).toThrow(/expected a YAML map/);
    expect(() => parseTubeStats(Buffer.from("---\nname: t\n"))).toThrow(/field 'current-jobs-urgent' is missing/);
  });
});
