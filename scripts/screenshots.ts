// Screenshots of the dashboard for the README: starts a real server (example and test jobs, a
// throw-away SQLite file), puts jobs in every state, and saves the main views to docs/screenshots/
// at 1280×800, plus the jobs list at phone width (390×844).
//
//   node --conditions=zerog-source --import tsx scripts/screenshots.ts
//
// Needs Debian's Chromium at /usr/bin/chromium (or ZEROG_TEST_CHROMIUM); never downloads a browser.
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { createJob, launchChromium, startDashboardServer } from "../test/helpers/browser.ts";

const OUT = fileURLToPath(new URL("../docs/screenshots/", import.meta.url));
/** Longest wait for a job or the page to reach the state a screenshot needs. */
const WAIT_MS = 20_000;

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// The server's info lines (jobs requeued, worker stopped) are not what this script is for.
process.env.ZEROG_LOG_LEVEL ??= "warn";
const dir = mkdtempSync(join(tmpdir(), "zerog-screenshots-"));
const srv = await startDashboardServer(`sqlite:${join(dir, "screens.db")}`);
const browser = await launchChromium();
try {
  const progressOf = async (uuid: string): Promise<{ completeness: number; result: number }> =>
    (await (await fetch(`${srv.base}/progress/${uuid}`)).json()) as { completeness: number; result: number };

  // Finished, failed and killed jobs first (older), then two running ones filling both slots,
  // a queued one behind them and a delayed one.
  const done = [
    await createJob(srv.base, "fizz_buzz", { n: 100 }),
    await createJob(srv.base, "waste_time", { delay: 0.5 }),
    await createJob(srv.base, "progress", { ticks: 20 }),
    await createJob(srv.base, "fragile", {}),
  ];
  for (const uuid of done) await until(`job ${uuid} to finish`, async () => (await progressOf(uuid)).result !== -1);
  const killed = await createJob(srv.base, "slow", { ms: 1000 }, { query: "delay=600" });
  await fetch(`${srv.base}/job/${killed}`, { method: "DELETE" });
  const running = await createJob(srv.base, "waste_time", { delay: 12 });
  const running2 = await createJob(srv.base, "waste_time", { delay: 30 });
  await createJob(srv.base, "fizz_buzz", { n: 15 });
  await createJob(srv.base, "waste_time", { delay: 5 }, { query: "delay=3600" });
  await until("the running job to be half way", async () => (await progressOf(running)).completeness >= 0.45);

  const shoot = async (page: Page, name: string): Promise<void> => {
    // Let live updates and the page's transitions settle.
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await sleep(300);
    // Views focus their heading on navigation (for screen readers); its focus ring is noise in a picture.
    await page.evaluate("document.activeElement?.blur()");
    const path = join(OUT, name);
    await page.screenshot({ path });
    console.log(`${path} (${Math.round(statSync(path).size / 1024)} KB)`);
  };
  mkdirSync(OUT, { recursive: true });

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  const page = await context.newPage();
  await page.goto(`${srv.ui}#/jobs`);
  await page.locator("tr[data-uuid]").nth(8).waitFor({ timeout: WAIT_MS });
  await shoot(page, "jobs.png");

  await page.goto(`${srv.ui}#/jobs/${running}`);
  await page.getByRole("list", { name: "Timeline" }).getByRole("listitem").nth(3).waitFor({ timeout: WAIT_MS });
  await shoot(page, "job-detail.png");

  await page.goto(`${srv.ui}#/new`);
  await page.getByLabel("Job type").selectOption("waste_time");
  const form = page.getByRole("form", { name: "Job parameters" });
  await form.getByRole("spinbutton", { name: "delay", exact: true }).fill("5000");
  await form.getByRole("button", { name: "Start job" }).click();
  await form.getByRole("alert").first().waitFor({ timeout: WAIT_MS });
  await shoot(page, "start-job.png");

  await page.goto(`${srv.ui}#/workers`);
  await page.getByRole("region", { name: "Host ui-host" }).locator("tr[data-worker-id]").waitFor({ timeout: WAIT_MS });
  await shoot(page, "workers.png");
  await context.close();

  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    colorScheme: "light",
  });
  const phonePage = await phone.newPage();
  await phonePage.goto(`${srv.ui}#/jobs/${running}`);
  await phonePage.getByRole("list", { name: "Timeline" }).getByRole("listitem").nth(3).waitFor({ timeout: WAIT_MS });
  await shoot(phonePage, "job-detail-phone.png");
  await phone.close();

  // Kill what still runs, so closing the server does not hand jobs back mid-run.
  for (const uuid of [running, running2]) await fetch(`${srv.base}/job/${uuid}/kill`, { method: "POST" });
  for (const uuid of [running, running2]) {
    await until(`job ${uuid} to stop`, async () => (await progressOf(uuid)).result !== -1);
  }
} finally {
  await browser.close();
  await srv.server.close();
  rmSync(dir, { recursive: true, force: true });
}
