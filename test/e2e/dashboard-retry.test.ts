import type { Locator, Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { chromiumPath, createJob } from "../helpers/browser.ts";
import { useDashboardPage } from "../helpers/dashboard-page.ts";

/**
 * Retrying and purging from the dashboard, in a real browser (Debian's Chromium driven by
 * playwright-core) against a real server: each action asks first, and its outcome is checked
 * through the REST API as well. Waits are on what the page shows (polled), never fixed sleeps.
 */

const chromium = chromiumPath();
const LIVE_MS = 10_000;

interface Doc {
  state: string;
  resultCode: number;
  attempt: number;
  events: { msg: string }[];
}

describe.skipIf(chromium === null)("dashboard: retry and purge", () => {
  const dashboard = useDashboardPage(chromium, LIVE_MS);
  let page: Page;
  beforeEach(() => {
    page = dashboard.page;
  });

  const dump = async (uuid: string): Promise<Doc | null> => {
    const res = await fetch(`${dashboard.srv.base}/dump/${uuid}?showLogs=true`);
    return res.status === 404 ? null : ((await res.json()) as Doc);
  };
  const finishedWith = async (uuid: string, code: number): Promise<Doc> => {
    await expect.poll(async () => (await dump(uuid))?.resultCode, { timeout: LIVE_MS }).toBe(code);
    return (await dump(uuid)) ?? expect.fail("gone");
  };
  const visible = (loc: Locator): Promise<void> => loc.waitFor({ state: "visible", timeout: LIVE_MS });
  const confirm = async (): Promise<void> => {
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
  };

  it("retries a killed job from its page: it runs again, and the page follows the new run live", async () => {
    const uuid = await createJob(dashboard.srv.base, "slow", { ms: 60_000 });
    await page.goto(`${dashboard.srv.ui}#/jobs/${uuid}`);
    await visible(page.getByText("State: running"));
    await page.getByRole("button", { name: "Kill job" }).click();
    await confirm();
    await visible(page.getByText("State: killed"));
    const killed = await finishedWith(uuid, 410);
    expect(await page.getByRole("button", { name: "Kill job" }).count()).toBe(0);

    await page.getByRole("button", { name: "Retry job" }).click();
    await confirm();
    // The new run sleeps a minute: only a page that follows the job again shows it running.
    await visible(page.getByText("State: running"));
    await visible(page.getByRole("list", { name: "Timeline" }).getByText("Retried by user"));
    const running = (await dump(uuid)) ?? expect.fail("gone");
    expect(running.state).toBe("running");
    expect(running.attempt).toBeGreaterThan(killed.attempt);
    await visible(page.getByText(`Attempt: ${running.attempt}`));

    await page.getByRole("button", { name: "Kill job" }).click();
    await confirm();
    await visible(page.getByText("State: killed"));
    await finishedWith(uuid, 410);
    await visible(page.getByRole("button", { name: "Purge job" }));
  });

  it("purges a failed job after a confirmation, and goes back to the list", async () => {
    const uuid = await createJob(dashboard.srv.base, "fragile", {});
    await finishedWith(uuid, 500);
    await page.goto(`${dashboard.srv.ui}#/jobs/${uuid}`);
    await visible(page.getByText("State: failed"));
    await page.getByRole("button", { name: "Purge job" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Back" }).click();
    expect(await dump(uuid)).not.toBeNull();
    await page.getByRole("button", { name: "Purge job" }).click();
    await confirm();
    await visible(page.getByRole("heading", { level: 1, name: "Jobs" }));
    await expect.poll(() => dump(uuid), { timeout: LIVE_MS }).toBeNull();
  });

  it("retries every failed job of a type from the filtered list, and says how many", async () => {
    const failed = [
      await createJob(dashboard.srv.base, "fragile", {}),
      await createJob(dashboard.srv.base, "fragile", {}),
    ];
    for (const uuid of failed) await finishedWith(uuid, 500);
    await page.goto(`${dashboard.srv.ui}#/jobs`);
    await page.getByLabel("State", { exact: true }).selectOption("finished");
    // Only a list of failed or killed jobs offers it.
    await page.getByRole("button", { name: "Newer" }).waitFor();
    expect(await page.getByRole("button", { name: /^Retry all/ }).count()).toBe(0);
    await page.getByLabel("Type", { exact: true }).selectOption("fragile");
    await page.getByLabel("State", { exact: true }).selectOption("failed");
    await visible(page.getByRole("button", { name: "Retry all failed jobs of type fragile" }));
    const before = await Promise.all(failed.map(async (u) => (await dump(u))?.attempt ?? 0));
    await page.getByRole("button", { name: "Retry all failed jobs of type fragile" }).click();
    await confirm();
    await visible(page.getByText(/^Retried \d+ jobs?$/));
    // Each ran again (and failed again: `fragile` always does), with a later attempt.
    for (const [i, uuid] of failed.entries()) {
      await expect
        .poll(async () => (await dump(uuid))?.attempt ?? 0, { timeout: LIVE_MS })
        .toBeGreaterThan(before[i] ?? 0);
      await finishedWith(uuid, 500);
    }
  });
});
