import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FleetOverview } from "zerog";
import {
  chromiumPath,
  createJob,
  type DashboardServer,
  launchChromium,
  startDashboardServer,
} from "../helpers/browser.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/**
 * Pausing a job type from the Workers view, in a real browser, with the keyboard alone: the
 * pause reaches the worker (its record says so, and a job of the type waits while another type's
 * runs), and Resume lets the waiting job run. A server of its own: a paused type would hold up
 * the other dashboard tests' jobs.
 */

const chromium = chromiumPath();
const LIVE_MS = 10_000;

describe.skipIf(chromium === null)("dashboard: pausing a job type", () => {
  let browser: Browser;
  let srv: DashboardServer;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    [browser, srv] = await Promise.all([
      launchChromium(chromium ?? undefined),
      startDashboardServer(`sqlite:${tempDbPath()}`),
    ]);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(LIVE_MS);
    page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), srv?.server.close()]);
  });
  afterEach(() => {
    expect(pageErrors, "uncaught exceptions in the page").toEqual([]);
    pageErrors = [];
  });

  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${srv.base}${path}`)).json()) as T;
  const workerShows = async (): Promise<string[]> =>
    (await api<FleetOverview>("/workers")).workers.flatMap((w) => w.pausedTypes ?? []);
  const stateOf = async (uuid: string): Promise<string> => (await api<{ state: string }>(`/info/${uuid}`)).state;

  /** Tabs from where the focus is (the page's start after a load) until `label` has it: reachable by keyboard. */
  async function tabTo(label: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await page.keyboard.press("Tab");
      if ((await page.evaluate("document.activeElement?.getAttribute('aria-label')")) === label) return;
    }
    throw new Error(`${label} is not reachable with Tab`);
  }
  /** The confirmation dialog opens with the focus on Back; Shift+Tab, then Enter, confirms. */
  async function confirmWithKeyboard(title: string): Promise<void> {
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("heading", { name: title }).waitFor({ state: "visible" });
    await page.keyboard.press("Shift+Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Confirm");
    await page.keyboard.press("Enter");
  }

  it("pauses and resumes a job type from the Workers view with the keyboard", async () => {
    await page.goto(`${srv.ui}#/workers`);
    await page.getByRole("heading", { level: 1, name: "Workers" }).waitFor({ state: "visible" });
    const types = page.getByRole("region", { name: "Job types" });
    const row = types.locator('tr[data-job-type="slow"]');
    await expect.poll(() => row.textContent(), { timeout: LIVE_MS }).toContain("active");

    await tabTo("Pause slow");
    await page.keyboard.press("Enter");
    await confirmWithKeyboard("Pause slow?");
    await expect.poll(() => row.textContent(), { timeout: LIVE_MS }).toContain("paused");
    await types.getByRole("button", { name: "Resume slow", exact: true }).waitFor({ state: "visible" });
    expect(await page.getByRole("status").textContent()).toBe("slow: paused");
    expect(await types.locator('tr[data-job-type="return_value"]').textContent()).toContain("active");

    // The worker has the pause: a slow job waits, more urgent than a later job of another type that runs.
    await expect.poll(workerShows, { timeout: LIVE_MS }).toEqual(["slow"]);
    const held = await createJob(srv.base, "slow", { ms: 0 }, { query: "priority=0" });
    const other = await createJob(srv.base, "return_value", { ret: 200 });
    await expect.poll(() => stateOf(other), { timeout: LIVE_MS }).toBe("finished");
    expect(await stateOf(held)).toBe("queued");

    // A fresh load shows the state kept by the server, and the keyboard starts from the top again.
    await page.reload();
    await expect.poll(() => row.textContent(), { timeout: LIVE_MS }).toContain("paused");
    await tabTo("Resume slow");
    await page.keyboard.press("Enter");
    await confirmWithKeyboard("Resume slow?");
    await expect.poll(() => row.textContent(), { timeout: LIVE_MS }).toContain("active");
    await expect.poll(() => stateOf(held), { timeout: LIVE_MS }).toBe("finished");
    expect(await workerShows()).toEqual([]);
  });

  it("asks first: Back leaves the type as it was", async () => {
    await page.goto(`${srv.ui}#/workers`);
    const types = page.getByRole("region", { name: "Job types" });
    await types.getByRole("button", { name: "Pause fizz_buzz", exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Back" }).click();
    await types.getByRole("button", { name: "Pause fizz_buzz", exact: true }).waitFor({ state: "visible" });
    const row = await api<{ jobType: string; paused: boolean }[]>("/jobtypes");
    expect(row.find((t) => t.jobType === "fizz_buzz")?.paused).toBe(false);
  });
});
