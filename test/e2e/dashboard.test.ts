import { randomUUID } from "node:crypto";
import type { Browser, Locator, Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { chromiumPath, createJob, type DashboardServer } from "../helpers/browser.ts";
import { useDashboardPage } from "../helpers/dashboard-page.ts";

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a
 * real server with the example jobs and one worker slot pair on host `ui-host`: every test drives
 * the page the way an operator would, through roles and labels, and checks the outcome through the
 * REST API as well. Waits are on what the page shows (polled), never fixed sleeps.
 */

const chromium = chromiumPath();
/** How long the page may take to show something that needs a job to run or a worker to react. */
const LIVE_MS = 10_000;

interface Summary {
  uuid: string;
  jobType: string;
  state: string;
}

describe.skipIf(chromium === null)("dashboard in a real browser", () => {
  const dashboard = useDashboardPage(chromium, LIVE_MS);
  let srv: DashboardServer;
  let page: Page;
  let browser: Browser;
  beforeEach(() => {
    ({ srv, page, browser } = dashboard);
  });

  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${srv.base}${path}`, init);
    return (await res.json()) as T;
  };
  const listJobs = async (query = ""): Promise<Summary[]> =>
    (await api<{ jobs: Summary[] }>(`/jobs?limit=100${query ? `&${query}` : ""}`)).jobs;
  const resultOf = async (uuid: string): Promise<number> => (await api<{ result: number }>(`/progress/${uuid}`)).result;
  const open = async (route: string): Promise<void> => {
    await page.goto(`${srv.ui}#/${route}`);
  };
  const heading = (name: string | RegExp): Locator => page.getByRole("heading", { level: 1, name });
  const visible = (loc: Locator, timeout = LIVE_MS): Promise<void> => loc.waitFor({ state: "visible", timeout });
  /** The progress bar's fill, 0..1, whatever its `max`. */
  const fill = async (bar: Locator): Promise<number> => {
    const [value, max] = await Promise.all([bar.getAttribute("value"), bar.getAttribute("max")]);
    return Number(value ?? 0) / Number(max ?? 1);
  };
  const uuidInUrl = async (): Promise<string | undefined> =>
    /#\/jobs\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? undefined;

  it("serves the dashboard at /ui/ with a main navigation to every view", async () => {
    const res = await fetch(srv.ui);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    // The issue's budget: a first load under ~200 KB of JS.
    let jsBytes = 0;
    page.on("response", async (r) => {
      if (r.request().resourceType() === "script") jsBytes += (await r.body()).length;
    });
    await page.goto(srv.ui);
    await visible(heading("Jobs"));
    expect(jsBytes).toBeGreaterThan(0);
    expect(jsBytes).toBeLessThan(200 * 1024);
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const [link, title] of [
      ["Start a job", "Start a job"],
      ["Workers", "Workers"],
      ["Jobs", "Jobs"],
    ] as const) {
      await nav.getByRole("link", { name: link, exact: true }).click();
      await visible(heading(title));
    }
    expect(page.url()).toMatch(/#\/jobs$/);
  });

  it("starts waste_time from the generated form, then shows its progress and timeline growing live, then Result: 200", async () => {
    await open("new");
    await visible(heading("Start a job"));
    await page.getByLabel("Job type").selectOption("waste_time");
    const form = page.getByRole("form", { name: "Job parameters" });
    const delay = form.getByRole("spinbutton", { name: "delay", exact: true });
    expect(await delay.getAttribute("type")).toBe("number");
    await delay.fill("3");
    // A marker that a reload would wipe: the updates below must arrive without one.
    await page.evaluate("window.__noReload = true");
    await form.getByRole("button", { name: "Start job" }).click();

    await expect.poll(uuidInUrl, { timeout: LIVE_MS }).toBeDefined();
    const uuid = (await uuidInUrl()) ?? expect.fail("no uuid in the URL");
    await visible(heading(`Job ${uuid}`));
    await visible(page.getByText("Type: waste_time"));
    await expect
      .poll(() => page.getByRole("region", { name: "Params" }).locator("pre").textContent())
      .toMatch(/"delay":\s*3/);

    // Sample what the page shows while the job runs (~3 s): progress and timeline must grow in steps.
    const bar = page.getByRole("progressbar", { name: "Progress", exact: true });
    const entries = page.getByRole("list", { name: "Timeline" }).getByRole("listitem");
    const result = page.getByText("Result: 200");
    const samples: { fill: number; entries: number }[] = [];
    const deadline = Date.now() + 15_000;
    while (!(await result.isVisible())) {
      if (Date.now() > deadline) throw new Error(`no "Result: 200" within 15 s; samples: ${JSON.stringify(samples)}`);
      samples.push({ fill: await fill(bar), entries: await entries.count() });
      await page.waitForTimeout(100);
    }
    const partial = [...new Set(samples.map((s) => s.fill).filter((f) => f > 0 && f < 1))];
    expect(partial.length, `distinct partial progress values seen: ${JSON.stringify(samples)}`).toBeGreaterThanOrEqual(
      3,
    );
    expect(partial).toEqual([...partial].sort((a, b) => a - b));
    const counts = [...new Set(samples.map((s) => s.entries).filter((n) => n > 0))];
    expect(counts.length, `distinct timeline lengths seen: ${JSON.stringify(samples)}`).toBeGreaterThanOrEqual(3);

    await visible(page.getByText("State: finished"));
    await expect.poll(() => fill(bar)).toBeCloseTo(1, 2);
    expect(await entries.count()).toBeGreaterThanOrEqual(5);
    expect(await entries.filter({ hasText: "seconds remaining" }).count()).toBeGreaterThanOrEqual(5);
    expect(await page.evaluate("window.__noReload")).toBe(true);
    expect(await resultOf(uuid)).toBe(200);
    // Every log entry once: the stream resumed after what the first dump showed, no gap, no repeat.
    const info = await api<{ events: unknown[]; warnings: unknown[]; errors: unknown[] }>(`/info/${uuid}`);
    expect(await entries.count()).toBe(info.events.length + info.warnings.length + info.errors.length);
  });

  it("shows the schema's message next to a bad field and creates no job", async () => {
    const before = (await listJobs("type=waste_time")).length;
    await open("new");
    await page.getByLabel("Job type").selectOption("waste_time");
    const form = page.getByRole("form", { name: "Job parameters" });
    const delay = form.getByRole("spinbutton", { name: "delay", exact: true });
    for (const [bad, message] of [
      ["5000", "Too big: expected number to be <=3600"],
      ["-5", "Too small: expected number to be >=0"],
    ] as const) {
      await delay.fill(bad);
      await form.getByRole("button", { name: "Start job" }).click();
      const alert = form.getByRole("alert").filter({ hasText: message });
      await visible(alert);
      // Next to the field: in the same field container as the input, or named by its aria-describedby.
      const describedBy = (await delay.getAttribute("aria-describedby")) ?? "";
      const alertId = (await alert.getAttribute("id")) ?? "";
      const sameField = await delay.locator("xpath=..").getByRole("alert").filter({ hasText: message }).count();
      expect(sameField > 0 || (alertId !== "" && describedBy.split(/\s+/).includes(alertId))).toBe(true);
      expect(page.url()).toMatch(/#\/new$/);
    }
    expect((await listJobs("type=waste_time")).length).toBe(before);

    // A good value afterwards clears the message and starts the job.
    await delay.fill("0");
    await form.getByRole("button", { name: "Start job" }).click();
    await expect.poll(uuidInUrl, { timeout: LIVE_MS }).toBeDefined();
    expect((await listJobs("type=waste_time")).length).toBe(before + 1);
  });

  it("cancels a delayed job from its detail page after a confirmation: killed, 410", async () => {
    const uuid = await createJob(srv.base, "slow", { ms: 100 }, { query: "delay=60" });
    await open(`jobs/${uuid}`);
    await visible(heading(`Job ${uuid}`));
    await visible(page.getByText("State: delayed"));
    expect(await page.getByRole("button", { name: "Kill job" }).count()).toBe(0);

    // Back first: nothing happens.
    await page.getByRole("button", { name: "Cancel job" }).click();
    const dialog = page.getByRole("dialog");
    await visible(dialog);
    await dialog.getByRole("button", { name: "Back" }).click();
    await dialog.waitFor({ state: "hidden" });
    // Escape is Back too.
    await page.getByRole("button", { name: "Cancel job" }).click();
    await visible(dialog);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await resultOf(uuid)).toBe(-1);

    await page.getByRole("button", { name: "Cancel job" }).click();
    await visible(dialog);
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await visible(page.getByText("State: killed"));
    await visible(page.getByText("Result: 410"));
    expect(await resultOf(uuid)).toBe(410);
    expect((await listJobs("state=killed")).map((j) => j.uuid)).toContain(uuid);
  });

  it("kills a running job from its detail page after a confirmation", async () => {
    const uuid = await createJob(srv.base, "abortable", { ms: 60_000 });
    await open(`jobs/${uuid}`);
    await visible(page.getByText("State: running"));
    expect(await page.getByRole("button", { name: "Cancel job" }).count()).toBe(0);
    await page.getByRole("button", { name: "Kill job" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await visible(page.getByText("State: killed"));
    expect(await resultOf(uuid)).toBe(410);
  });

  it("lists jobs, updates rows live and filters by state and type", async () => {
    const delayed = await createJob(srv.base, "slow", { ms: 100 }, { query: "delay=60" });
    const finished = await createJob(srv.base, "fizz_buzz", { n: 15 });
    await expect.poll(() => resultOf(finished), { timeout: LIVE_MS }).toBe(200);

    await open("jobs");
    const table = page.getByRole("table", { name: "Jobs" });
    const row = (uuid: string): Locator => table.locator(`tr[data-uuid="${uuid}"]`);
    await visible(row(delayed));
    await visible(row(finished));
    await expect.poll(() => row(delayed).textContent()).toContain("delayed");
    await expect.poll(() => row(finished).textContent()).toContain("finished");
    await expect
      .poll(() =>
        row(finished)
          .getByRole("progressbar", { name: `Progress of ${finished}` })
          .count(),
      )
      .toBe(1);

    // A job created meanwhile shows up, then finishes, without a reload.
    await page.evaluate("window.__noReload = true");
    const live = await createJob(srv.base, "slow", { ms: 300 });
    await visible(row(live));
    await expect.poll(() => row(live).textContent(), { timeout: LIVE_MS }).toContain("finished");
    expect(await page.evaluate("window.__noReload")).toBe(true);

    const rowStates = async (): Promise<string[]> => table.locator("tr[data-uuid]").allTextContents();
    await page.getByLabel("State", { exact: true }).selectOption("delayed");
    await row(finished).waitFor({ state: "detached", timeout: LIVE_MS });
    await visible(row(delayed));
    expect((await rowStates()).every((t) => t.includes("delayed"))).toBe(true);

    await page.getByLabel("State", { exact: true }).selectOption("finished");
    await row(delayed).waitFor({ state: "detached", timeout: LIVE_MS });
    await visible(row(finished));
    expect((await rowStates()).every((t) => t.includes("finished"))).toBe(true);

    await page.getByLabel("Type", { exact: true }).selectOption("fizz_buzz");
    await row(live).waitFor({ state: "detached", timeout: LIVE_MS });
    const fizzRows = await table
      .locator("tr[data-uuid]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-uuid")));
    const fizzJobs = (await listJobs("type=fizz_buzz&state=finished")).map((j) => j.uuid);
    expect(fizzRows).toEqual(fizzJobs);

    // The job cell links to the job's page.
    await row(finished).getByRole("link", { name: finished }).click();
    await visible(heading(`Job ${finished}`));
    expect(page.url()).toMatch(new RegExp(`#/jobs/${finished}$`));
  });

  it("drains and undrains the worker, then the whole host, from the Workers view", async () => {
    const workerId = `ui-host:zerog:${process.pid}`;
    await open("workers");
    await visible(heading("Workers"));
    await visible(page.getByLabel("Queue depth"));
    const host = page.getByRole("region", { name: "Host ui-host" });
    const row = host.locator(`tr[data-worker-id="${workerId}"]`);
    await visible(row);
    const stateText = (): Promise<string | null> => row.textContent();
    await expect.poll(stateText, { timeout: LIVE_MS }).toContain("activeIdle");
    expect(await host.getByText("safe to terminate").count()).toBe(0);

    const confirm = async (): Promise<void> => {
      await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    };
    await host.getByRole("button", { name: `Drain ${workerId}`, exact: true }).click();
    await confirm();
    await expect.poll(stateText, { timeout: LIVE_MS }).toContain("drainingIdle");
    await visible(host.getByText("safe to terminate"));

    await host.getByRole("button", { name: `Undrain ${workerId}`, exact: true }).click();
    await confirm();
    await expect.poll(stateText, { timeout: LIVE_MS }).toContain("activeIdle");
    await host.getByText("safe to terminate").waitFor({ state: "hidden", timeout: LIVE_MS });

    await host.getByRole("button", { name: "Drain host", exact: true }).click();
    await confirm();
    await expect.poll(stateText, { timeout: LIVE_MS }).toContain("drainingIdle");
    await visible(host.getByText("safe to terminate"));
    await host.getByRole("button", { name: "Undrain host", exact: true }).click();
    await confirm();
    await expect.poll(stateText, { timeout: LIVE_MS }).toContain("activeIdle");

    // The worker runs jobs again.
    const uuid = await createJob(srv.base, "slow", { ms: 0 });
    await expect.poll(() => resultOf(uuid), { timeout: LIVE_MS }).toBe(200);
  });

  it("kills a running job from the Workers view", async () => {
    const uuid = await createJob(srv.base, "abortable", { ms: 60_000 });
    await open("workers");
    const row = page.getByRole("region", { name: "Host ui-host" }).locator("tr[data-worker-id]");
    await visible(row.getByRole("link", { name: uuid }));
    await row.getByRole("button", { name: `Kill ${uuid}`, exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => resultOf(uuid), { timeout: LIVE_MS }).toBe(410);
    await row.getByRole("link", { name: uuid }).waitFor({ state: "detached", timeout: LIVE_MS });
  });

  it("pages through more jobs than fit on a page with Older and Newer", async () => {
    // Delayed for an hour: they stay put, and their own type keeps the other tests' jobs out of the pages.
    const uuids: string[] = [];
    for (let i = 0; i < 55; i++)
      uuids.push(await createJob(srv.base, "return_value", { ret: i }, { query: "delay=3600" }));
    await open("jobs");
    await page.getByLabel("State", { exact: true }).selectOption("");
    await page.getByLabel("Type", { exact: true }).selectOption("return_value");
    const rows = page.getByRole("table", { name: "Jobs" }).locator("tr[data-uuid]");
    const shown = (): Promise<(string | null)[]> =>
      rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-uuid")));
    // The API's order (newest first; jobs created in the same millisecond tie-break by uuid).
    const newest = (await listJobs("type=return_value")).map((j) => j.uuid);
    expect([...newest].sort()).toEqual([...uuids].sort());
    await expect.poll(shown, { timeout: LIVE_MS }).toEqual(newest.slice(0, 50));
    const newer = page.getByRole("button", { name: "Newer" });
    const older = page.getByRole("button", { name: "Older" });
    expect(await newer.isDisabled()).toBe(true);
    await older.click();
    await expect.poll(shown, { timeout: LIVE_MS }).toEqual(newest.slice(50));
    expect(await older.isDisabled()).toBe(true);
    await newer.click();
    await expect.poll(shown, { timeout: LIVE_MS }).toEqual(newest.slice(0, 50));
    await page.getByLabel("Type", { exact: true }).selectOption("");
  });

  it("fits a phone's width: no view scrolls sideways", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const p = await phone.newPage();
      const uuid = (await listJobs())[0]?.uuid ?? expect.fail("no jobs");
      for (const route of ["jobs", `jobs/${uuid}`, "new", "workers"]) {
        await p.goto(`${srv.ui}#/${route}`);
        await p.getByRole("heading", { level: 1 }).waitFor({ timeout: LIVE_MS });
        await p.waitForLoadState("networkidle").catch(() => undefined);
        expect(await p.evaluate("document.documentElement.scrollWidth"), `#/${route} at 390 px`).toBeLessThanOrEqual(
          390,
        );
      }
    } finally {
      await phone.close();
    }
  });

  it("shows an API error in an alert banner", async () => {
    const missing = randomUUID();
    await open(`jobs/${missing}`);
    await visible(page.getByRole("alert").filter({ hasText: `no job with uuid '${missing}'` }));
  });

  // Last: a retired worker takes no more jobs on this server.
  it("retires the worker; undraining it then shows the API's refusal", async () => {
    const workerId = `ui-host:zerog:${process.pid}`;
    await open("workers");
    const row = page.getByRole("region", { name: "Host ui-host" }).locator(`tr[data-worker-id="${workerId}"]`);
    await row.getByRole("button", { name: `Retire ${workerId}`, exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => row.textContent(), { timeout: LIVE_MS }).toContain("drainingIdle");
    await row.getByRole("button", { name: `Undrain ${workerId}`, exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await visible(page.getByRole("alert").filter({ hasText: "retired" }));
  });
});
