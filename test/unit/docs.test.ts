import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HTTP_STATUS } from "../../src/errors.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("docs agree with the code", () => {
  it("the README's first code block is examples/waste-time-job.ts (which examples.test.ts runs)", () => {
    const readme = read("README.md");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(read("examples/waste-time-job.ts"));
  });

  it("docs/errors.md lists every error code with its HTTP status, and no other", () => {
    const rows = [...read("docs/errors.md").matchAll(/^\|\s*`(ZEROG_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)];
    const documented = Object.fromEntries(rows.map((m) => [m[1], Number(m[2])]));
    expect(documented).toEqual(HTTP_STATUS);
  });
});
