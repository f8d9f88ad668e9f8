import { describe, expect, it } from "vitest";
import { BACKENDS, deadServerScenario, serviceMissing, summary } from "../helpers/dead-server-scenario.ts";

/**
 * The dead-server takeover with the default 10 s worker TTL on every backend (the normal suite
 * runs it on SQLite, and with a 2 s TTL on every backend): each job the SIGKILLed server held is
 * running elsewhere within 12 s, nothing lost, no run overlapping another.
 */
describe("soak: a SIGKILLed server's jobs run elsewhere within 12 s with the default worker TTL", () => {
  for (const b of BACKENDS) {
    // Skipped only when the service is missing and CI is not set (the helpers fail the run under CI=true).
    it.skipIf(serviceMissing(b))(b.name, { timeout: 120_000 }, async () => {
      const ms = await deadServerScenario(b, 10);
      console.log(`${b.name}, worker TTL 10 s: takeover after the kill ${summary(ms)}`);
      expect(Math.max(...ms)).toBeLessThanOrEqual(12_000);
    });
  }
});
