import { setTimeout as sleep } from "node:timers/promises";
import type { Browser, Locator, Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { BaseJob } from "zerog";
import { chromiumPath, createJob, DASHBOARD_JOBS, type DashboardServer } from "../helpers/browser.ts";
import { useDashboardPage } from "../helpers/dashboard-page.ts";
import { PartJob } from "../helpers/part-job.ts";

/**
 * The job page and the jobs table in a real browser (Debian's Chromium driven by playwright-core)
 * against a real server: messages keep their line breaks, the timeline follows its end, the
 * document's fields are labelled, the table fits a phone, and progress bars tell how a job ended.
 * Waits are on what the page shows (polled), never fixed sleeps.
 */

const chromium = chromiumPath();
/** How long the page may take to show something that needs a job to run or a worker to react. */
const LIVE_MS = 10_000;
/** The stylesheet's colours in the light scheme (Playwright's default): --accent, --danger, --muted. */
const BLUE = "rgb(31, 79, 209)";
const RED = "rgb(179, 38, 30)";
const GREY = "rgb(85, 93, 107)";

/** Logs an event and a warning of two lines each, then throws an error whose message has two lines too. */
class MultiLineJob extends BaseJob {
  static override jobType = "multi_line";
  static override maxErrors = 1;
  async run(): Promise<never> {
    await this.logInfo("first line\nsecond line");
    await this.logWarning("careful:\n  indented second line");
    throw new Error("broke\nwith a second line");
  }
}

/** Logs an event every 40 ms until it is killed. */
class ChattyJob extends BaseJob {
  static override jobType = "chatty";
  async run() {
    for (let i = 1; !this.signal.aborted; i++) {
      await this.logInfo(`entry ${i}`);
      await sleep(40, undefined, { signal: this.signal }).catch(() => undefined);
    }
    return 200;
  }
}

/**
 * What the functions run in the page use of its globals: the tests compile without the DOM
 * library, so they reach these through `globalThis as unknown as PageGlobals` (the cast is erased).
 */
interface PageGlobals {
  getComputedStyle(
    el: unknown,
    pseudo?: string,
  ): { accentColor: string; whiteSpace: string; fontFamily: string; lineHeight: string; content: string };
  innerWidth: number;
  document: { documentElement: { scrollWidth: number } };
}

interface Doc {
  state: string;
  resultCode: number;
  attempt: number;
  workerId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  errorCount: number;
  nextAttemptAt?: string | null;
  events: { msg: string }[];
  warnings: { msg: string }[];
  errors: { msg: string; errorCode: number }[];
}

describe.skipIf(chromium === null)("the dashboard's job page and jobs table", () => {
  const dashboard = useDashboardPage(chromium, LIVE_MS, {
    jobs: [...DASHBOARD_JOBS, PartJob, MultiLineJob, ChattyJob],
  });
  let srv: DashboardServer;
  let page: Page;
  let browser: Browser;
  beforeEach(() => {
    ({ srv, page, browser } = dashboard);
  });

  const dump = async (uuid: string): Promise<Doc> =>
    (await (await fetch(`${srv.base}/dump/${uuid}?showLogs=true`)).json()) as Doc;
  const finished = (uuid: string): Promise<Doc> =>
    expect
      .poll(async () => (await dump(uuid)).state, { timeout: LIVE_MS })
      .toBe("finished")
      .then(() => dump(uuid));
  const kill = (uuid: string): Promise<Response> => fetch(`${srv.base}/job/${uuid}/kill`, { method: "POST" });
  const openJob = async (p: Page, uuid: string): Promise<void> => {
    await p.goto(`${srv.ui}#/jobs/${uuid}`);
    await p.getByRole("heading", { level: 1, name: `Job ${uuid}` }).waitFor();
  };
  const timeline = (p: Page = page): Locator => p.getByRole("list", { name: "Timeline" });
  /** The value of the labelled field `label` ("State", "Attempt", …) on the job page. */
  const fact = (label: string): Locator =>
    page.locator("dl.facts > div").filter({ has: page.getByRole("term").filter({ hasText: `${label}:` }) });
  const factValue = async (label: string): Promise<string> =>
    (await fact(label).getByRole("definition").textContent()) ?? "";
  /** A progress bar as drawn: fill 0..1, its colour, and the words it carries. */
  const barOf = async (bar: Locator) =>
    bar.evaluate((el) => {
      const bar = el as unknown as { value: number; max: number };
      return {
        fill: bar.value / bar.max,
        colour: (globalThis as unknown as PageGlobals).getComputedStyle(el).accentColor,
        text: (el.getAttribute("aria-valuetext") ?? "").replace(/\s/g, " "),
      };
    });
  const jobBar = (): Locator => page.getByRole("progressbar", { name: "Progress", exact: true });
  const row = (p: Page, uuid: string): Locator =>
    p.getByRole("table", { name: "Jobs" }).locator(`tr[data-uuid="${uuid}"]`);
  const rowBar = (p: Page, uuid: string): Locator =>
    row(p, uuid).getByRole("progressbar", { name: `Progress of ${uuid}` });

  it("shows messages with their line breaks: an error's stack trace, a warning and an event", async () => {
    const uuid = await createJob(srv.base, "multi_line", {});
    const doc = await finished(uuid);
    expect(doc.resultCode).toBe(500);
    const stack = doc.errors[0]?.msg ?? expect.fail("no error recorded");
    expect(stack.split("\n").length, "the recorded error is a stack trace").toBeGreaterThanOrEqual(3);

    await openJob(page, uuid);
    const entries = timeline().getByRole("listitem");
    await expect.poll(() => entries.count()).toBe(3);
    for (const [kind, msg] of [
      ["error 500", stack],
      ["warning", "careful:\n  indented second line"],
      ["event", "first line\nsecond line"],
    ] as const) {
      const text = entries.filter({ has: page.getByText(kind, { exact: true }) }).locator(".msg");
      // innerText is the text as rendered: with collapsed white space the line breaks would be gone.
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
      expect(await text.innerText(), kind).toBe(msg);
      const look = await text.evaluate((el) => {
        const s = (globalThis as unknown as PageGlobals).getComputedStyle(el);
        return {
          whiteSpace: s.whiteSpace,
          font: s.fontFamily,
          lineHeight: Number.parseFloat(s.lineHeight),
          height: el.getBoundingClientRect().height,
        };
      });
      expect(look.whiteSpace, kind).toBe("pre-wrap");
      expect(look.font, kind).toMatch(/monospace/);
      expect(look.height, `${kind} takes one line a line`).toBeGreaterThanOrEqual(
        msg.split("\n").length * look.lineHeight,
      );
    }
  });

  it("keeps the timeline at its newest entry while the user is at the end, and leaves it where the user scrolled", async () => {
    const uuid = await createJob(srv.base, "chatty", {});
    try {
      await openJob(page, uuid);
      const list = timeline();
      const entries = list.getByRole("listitem");
      const box = () =>
        list.evaluate((el) => ({ top: el.scrollTop, height: el.clientHeight, content: el.scrollHeight }));
      /** Scrolled to the end, the newest entry wholly in sight. */
      const atEnd = () =>
        list.evaluate((el) => {
          const last = el.lastElementChild?.getBoundingClientRect();
          const view = el.getBoundingClientRect();
          const end = el.scrollHeight - el.scrollTop - el.clientHeight <= 2;
          return end && last !== undefined && last.top >= view.top && last.bottom <= view.bottom + 2;
        });
      // Enough entries to scroll: the view has followed them to the end, the newest entry in sight.
      await expect
        .poll(async () => (await box()).content > (await box()).height * 1.5, { timeout: LIVE_MS })
        .toBe(true);
      const count = await entries.count();
      await expect.poll(() => entries.count()).toBeGreaterThan(count + 3);
      expect(await atEnd()).toBe(true);

      // The user scrolls back to read: new entries keep coming, the view stays where it is.
      await list.evaluate((el) => {
        el.scrollTop = 0;
      });
      const before = await entries.count();
      await expect.poll(() => entries.count()).toBeGreaterThan(before + 3);
      expect((await box()).top).toBe(0);
      expect(await entries.first().textContent()).toContain("entry 1");

      // Back at the end, the view follows again.
      await list.evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      const again = await entries.count();
      await expect.poll(() => entries.count()).toBeGreaterThan(again + 3);
      expect(await atEnd()).toBe(true);
    } finally {
      await kill(uuid);
    }
    await finished(uuid);
  });

  it("shows attempt, worker, started, finished, state, errors and result as labelled fields, filled in as the job runs", async () => {
    // Delayed so the page is open before the job starts.
    const uuid = await createJob(srv.base, "part", { after: "wait" }, { query: "delay=2" });
    try {
      await openJob(page, uuid);
      await expect.poll(() => factValue("State")).toBe("delayed");
      expect(await factValue("Attempt")).toBe("0");
      expect(await factValue("Worker")).toBe("—");
      expect(await factValue("Started")).toBe("—");
      expect(await factValue("Finished")).toBe("—");
      expect(await factValue("Result")).toBe("—");
      expect(await factValue("Errors")).toBe("0");
      expect(await factValue("Type")).toBe("part");

      // The job starts: the stream says "running", and the page reads the fields the stream does not carry.
      await expect.poll(() => factValue("State"), { timeout: LIVE_MS }).toBe("running");
      const running = await dump(uuid);
      expect(running.workerId).toMatch(/^ui-host:/);
      await expect.poll(() => factValue("Worker")).toBe(running.workerId);
      expect(await factValue("Attempt")).toBe("1");
      const started = fact("Started").locator("time");
      expect(await started.getAttribute("datetime")).toBe(running.startedAt);
      expect(await started.getAttribute("title")).toBe(running.startedAt);
      // A human time, not the ISO one.
      const local = await page.evaluate((iso) => new Date(iso).toLocaleString(), running.startedAt ?? "");
      expect(await started.textContent()).toBe(local);
    } finally {
      await kill(uuid);
    }
    const doc = await finished(uuid);
    await expect.poll(() => factValue("State")).toBe("killed");
    await expect.poll(() => factValue("Result")).toBe("410");
    await expect.poll(() => fact("Finished").locator("time").getAttribute("datetime")).toBe(doc.finishedAt);
    expect(await fact("Finished").locator("time").getAttribute("title")).toBe(doc.finishedAt);
    await expect.poll(() => factValue("Errors")).toBe(String(doc.errorCount));
    expect(doc.errorCount).toBeGreaterThan(0);
    expect(await factValue("Attempt")).toBe(String(doc.attempt));
  });

  it("fits a 390 px phone: the jobs table stacks, every column of a row in sight, and no page scrolls sideways", async () => {
    const done = await createJob(srv.base, "fizz_buzz", { n: 15 });
    const waiting = await createJob(srv.base, "slow", { ms: 100 }, { query: "delay=3600" });
    const broken = await createJob(srv.base, "multi_line", {});
    await Promise.all([finished(done), finished(broken)]);
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const p = await phone.newPage();
      dashboard.watch(p);
      await p.goto(`${srv.ui}#/jobs`);
      for (const uuid of [done, waiting, broken]) await row(p, uuid).waitFor();
      await expect.poll(() => row(p, done).textContent()).toContain("finished");
      const overflow = () =>
        p.evaluate(() => {
          const w = globalThis as unknown as PageGlobals;
          return w.document.documentElement.scrollWidth - w.innerWidth;
        });
      expect(await overflow(), "#/jobs scrolls sideways").toBeLessThanOrEqual(0);
      const columns = ["Job", "Type", "State", "Progress", "Result", "Created", "Updated"];
      // Still a table with its column headers for screen readers.
      for (const name of columns) expect(await p.getByRole("columnheader", { name, exact: true }).count()).toBe(1);
      for (const uuid of [done, waiting]) {
        const cells = await row(p, uuid)
          .getByRole("cell")
          .evaluateAll((tds) =>
            tds.map((td) => {
              const r = td.getBoundingClientRect();
              return {
                left: r.left,
                right: r.right,
                width: r.width,
                label: (globalThis as unknown as PageGlobals).getComputedStyle(td, "::before").content,
              };
            }),
          );
        expect(cells).toHaveLength(columns.length);
        cells.forEach((c, i) => {
          expect(c.left, `${columns[i]} of ${uuid}`).toBeGreaterThanOrEqual(0);
          expect(c.right, `${columns[i]} of ${uuid}`).toBeLessThanOrEqual(390);
          expect(c.width).toBeGreaterThan(0);
          expect(c.label, "each cell shows its column's name").toContain(columns[i]);
        });
      }
      await row(p, done).getByRole("link", { name: done }).click();
      await p.getByRole("heading", { level: 1, name: `Job ${done}` }).waitFor();

      // The job page too, a stack trace's long lines included.
      await openJob(p, broken);
      await expect.poll(() => timeline(p).getByRole("listitem").count()).toBe(3);
      expect(await overflow(), `#/jobs/${broken} scrolls sideways`).toBeLessThanOrEqual(0);
    } finally {
      await phone.close();
      await fetch(`${srv.base}/job/${waiting}`, { method: "DELETE" });
    }
  });

  it("draws a failed job's bar red at the completeness it reached: 'failed at 36 %', on its page and in the list", async () => {
    const uuid = await createJob(srv.base, "part", { after: "fail" });
    const doc = await finished(uuid);
    expect(doc.resultCode).toBe(500);
    await openJob(page, uuid);
    await page.getByText("failed at 36 %").waitFor();
    expect(await barOf(jobBar())).toEqual({ fill: 0.36, colour: RED, text: "failed at 36 %" });

    await page.goto(`${srv.ui}#/jobs`);
    await row(page, uuid).getByText("failed at 36 %").waitFor();
    expect(await barOf(rowBar(page, uuid))).toEqual({ fill: 0.36, colour: RED, text: "failed at 36 %" });
  });

  it("draws a job a user killed grey at 'killed at 36 %', live on its page; a success stays a full blue bar", async () => {
    const uuid = await createJob(srv.base, "part", { after: "wait" });
    await openJob(page, uuid);
    await expect.poll(() => factValue("State"), { timeout: LIVE_MS }).toBe("running");
    await expect.poll(async () => (await barOf(jobBar())).text).toBe("36 %");
    expect((await barOf(jobBar())).colour).toBe(BLUE);
    await kill(uuid);
    await page.getByText("killed at 36 %").waitFor();
    expect(await barOf(jobBar())).toEqual({ fill: 0.36, colour: GREY, text: "killed at 36 %" });

    const ok = await createJob(srv.base, "part", { after: "finish" });
    await finished(ok);
    await page.goto(`${srv.ui}#/jobs`);
    await row(page, uuid).getByText("killed at 36 %").waitFor();
    expect(await barOf(rowBar(page, uuid))).toEqual({ fill: 0.36, colour: GREY, text: "killed at 36 %" });
    await expect.poll(async () => (await barOf(rowBar(page, ok))).text).toBe("100 %");
    expect(await barOf(rowBar(page, ok))).toEqual({ fill: 1, colour: BLUE, text: "100 %" });
  });

  it("tells when a failed run's retry is due: 'next attempt at <time> (in N s)', counting down, on its page and in the list", async () => {
    // Delayed so the page is open before the run: the stream brings the change to "delayed".
    const uuid = await createJob(srv.base, "part", { after: "fail", maxErrors: 3 }, { query: "delay=2" });
    try {
      await openJob(page, uuid);
      await expect.poll(async () => (await barOf(jobBar())).text).toMatch(/^starts at .+ \(in \d+ s\)$/);
      await expect.poll(() => factValue("Errors"), { timeout: LIVE_MS }).toBe("1");
      await expect.poll(() => factValue("State")).toBe("delayed");
      const doc = await dump(uuid);
      expect(doc.state).toBe("delayed");
      const due = doc.nextAttemptAt ?? expect.fail("no nextAttemptAt on the document");
      const clock = await page.evaluate((iso) => new Date(iso).toLocaleTimeString(), due);
      const nextAttempt = new RegExp(
        `^next attempt at ${clock.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(in \\d+ s\\)$`,
      );
      const text = page.locator(".progress-line .pct");
      await expect.poll(() => text.textContent()).toMatch(nextAttempt);
      expect(await text.getAttribute("title")).toBe(due);
      const bar = await barOf(jobBar());
      expect(bar.fill).toBeCloseTo(0.36, 5);
      expect(bar.colour).toBe(BLUE);
      // The seconds count down.
      const seconds = async () => Number(/\(in (\d+) s\)/.exec((await text.textContent()) ?? "")?.[1]);
      const first = await seconds();
      expect(first).toBeGreaterThan(20);
      await expect.poll(seconds, { timeout: 5000 }).toBeLessThan(first);

      await page.goto(`${srv.ui}#/jobs`);
      await expect.poll(() => row(page, uuid).locator(".pct").textContent()).toMatch(nextAttempt);
      expect(await row(page, uuid).locator(".pct").getAttribute("title")).toBe(due);
    } finally {
      await fetch(`${srv.base}/job/${uuid}`, { method: "DELETE" });
    }
  });
});
