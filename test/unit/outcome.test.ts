import { describe, expect, it } from "vitest";
import { outcomeOf } from "../../src/worker/outcome.ts";

describe("outcomeOf: run()'s return value → outcome", () => {
  const cases: [string, unknown, ReturnType<typeof outcomeOf>][] = [
    ["a number", 201, { kind: "finish", resultCode: 201 }],
    ["a numeric string", "404", { kind: "finish", resultCode: 404 }],
    ["a pair", [202, null], { kind: "finish", resultCode: 202 }],
    ["nothing", undefined, { kind: "finish", resultCode: 200 }],
    ["null", null, { kind: "finish", resultCode: 200 }],
    ["an object", { ok: true }, { kind: "finish", resultCode: 200 }],
    ["a non-numeric string", "done", { kind: "finish", resultCode: 200 }],
    ["a fraction", 1.5, { kind: "finish", resultCode: 200 }],
    ["NO_RESULT", -1, { kind: "requeue", delaySeconds: 10 }],
    ["NO_RESULT as a string", "-1", { kind: "requeue", delaySeconds: 10 }],
    ["NO_RESULT with a delay", [-1, 3], { kind: "requeue", delaySeconds: 3 }],
    ["NO_RESULT with delay 0", [-1, 0], { kind: "requeue", delaySeconds: 0 }],
    ["NO_RESULT with a bad delay", [-1, "soon"], { kind: "requeue", delaySeconds: 10 }],
    ["NO_RESULT with a negative delay", [-1, -5], { kind: "requeue", delaySeconds: 10 }],
  ];
  for (const [name, ret, expected] of cases) {
    it(name, () => expect(outcomeOf(ret, 10)).toEqual(expected));
  }
});
