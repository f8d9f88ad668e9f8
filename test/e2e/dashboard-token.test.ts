import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  chromiumPath,
  createJob,
  type DashboardServer,
  launchChromium,
  startDashboardServer,
} from "../helpers/browser.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/**
 * The dashboard on a server with an API token ("asks for it once, keeps it in the
 * session"), in a real browser: the token form appears on the first 401 and never again in the
 * session; with `protectReads` the page itself still loads and live updates still arrive.
 */

const chromium = chromiumPath();
const TOKEN = "ui-test-token";
const LIVE_MS = 10_000;

describe.skipIf(chromium === null)("dashboard with an API token", () => {
  let browser: Browser;
  const servers: DashboardServer[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium(chromium ?? undefined);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), ...servers.map((s) => s.server.close())]);
  });
  afterEach(() => {
    expect(pageErrors, "uncaught exceptions in the page").toEqual([]);
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Playwright waits forever by default: fail with its message well before the test's timeout.
    context.setDefaultTimeout(LIVE_MS);
    const page = await context.newPage();
    pageErrors = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    return page;
  }
  const start = async (protectReads: boolean): Promise<DashboardServer> => {
    const srv = await startDashboardServer(`sqlite:${tempDbPath()}`, { apiToken: TOKEN, protectReads });
    servers.push(srv);
    return srv;
  };
  const tokenForm = (page: Page) => page.getByRole("form", { name: "API token" });
  async function saveToken(page: Page, token: string): Promise<void> {
    const form = tokenForm(page);
    await form.waitFor({ state: "visible", timeout: LIVE_MS });
    await form.getByLabel("API token").fill(token);
    await form.getByRole("button", { name: "Save token" }).click();
  }

  it("asks for the token on the first 401, once, then manages workers and starts jobs with it", async () => {
    const srv = await start(false);
    const page = await newPage();
    // Reads are open: the jobs list shows without a token.
    await page.goto(`${srv.ui}#/jobs`);
    await page.getByRole("table", { name: "Jobs" }).waitFor({ timeout: LIVE_MS });
    expect(await tokenForm(page).count()).toBe(0);

    // The fleet needs it: the form appears; a wrong token is refused and asked for again.
    await page.goto(`${srv.ui}#/workers`);
    await saveToken(page, "wrong");
    await tokenForm(page).waitFor({ state: "visible", timeout: LIVE_MS });
    await saveToken(page, TOKEN);
    const host = page.getByRole("region", { name: "Host ui-host" });
    await host.waitFor({ timeout: LIVE_MS });
    await expect
      .poll(() => host.locator("tr[data-worker-id]").textContent(), { timeout: LIVE_MS })
      .toContain("activeIdle");
    expect(await tokenForm(page).count()).toBe(0);

    // Mutations work with the saved token, with no second prompt.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Start a job" }).click();
    await page.getByLabel("Job type").selectOption("fizz_buzz");
    const form = page.getByRole("form", { name: "Job parameters" });
    await form.getByRole("spinbutton", { name: "n", exact: true }).fill("30");
    await form.getByRole("button", { name: "Start job" }).click();
    await page.getByText("Result: 200").waitFor({ timeout: LIVE_MS });
    expect(await tokenForm(page).count()).toBe(0);

    // Kept for the session: a reload does not ask again.
    await page.goto(`${srv.ui}#/workers`);
    await page.reload();
    await host.waitFor({ timeout: LIVE_MS });
    expect(await tokenForm(page).count()).toBe(0);
    await page.context().close();
  });

  it("with protectReads: the page still loads, asks for the token, then lists jobs and follows one live", async () => {
    const srv = await start(true);
    const uuid = await createJob(srv.base, "waste_time", { delay: 2 }, { token: TOKEN });
    const page = await newPage();
    const res = await page.goto(`${srv.ui}#/jobs/${uuid}`);
    expect(res?.status()).toBe(200);
    await saveToken(page, TOKEN);
    await page.getByRole("heading", { level: 1, name: `Job ${uuid}` }).waitFor({ timeout: LIVE_MS });
    const entries = page.getByRole("list", { name: "Timeline" }).getByRole("listitem");
    await expect.poll(() => entries.count(), { timeout: LIVE_MS }).toBeGreaterThanOrEqual(3);
    await page.getByText("Result: 200").waitFor({ timeout: LIVE_MS });

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs" }).click();
    await page.locator(`tr[data-uuid="${uuid}"]`).waitFor({ timeout: LIVE_MS });
    expect(await tokenForm(page).count()).toBe(0);
    await page.context().close();
  });
});
