import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import type { ServerConfig } from "zerog";
import { type DashboardServer, launchChromium, startDashboardServer } from "./browser.ts";
import { tempDbPath } from "./sqlite-temp.ts";

/** What a dashboard test reads: the server of its file, and this test's page. */
export interface DashboardPage {
  readonly srv: DashboardServer;
  readonly page: Page;
  /** For a test's own contexts (a phone's viewport). */
  readonly browser: Browser;
  /** Counts `p`'s uncaught exceptions against the test too (a page of a test's own context). */
  watch(p: Page): void;
}

/**
 * The hooks of a browser test file, called inside its `describe`: one Chromium and one dashboard
 * server on a fresh SQLite file for the file, a fresh page (1280×800) for each test, Playwright's
 * waits capped at `liveMs`, and a failed test for any uncaught exception in the page.
 */
export function useDashboardPage(
  chromium: string | null,
  liveMs: number,
  over: Partial<ServerConfig> = {},
): DashboardPage {
  let browser: Browser | undefined;
  let srv: DashboardServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let pageErrors: string[] = [];
  beforeAll(async () => {
    [browser, srv] = await Promise.all([
      launchChromium(chromium ?? undefined),
      startDashboardServer(`sqlite:${tempDbPath()}`, over),
    ]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), srv?.server.close()]);
  });
  beforeEach(async () => {
    context = await (browser ?? expect.fail("no browser")).newContext({ viewport: { width: 1280, height: 800 } });
    // Playwright waits forever by default: fail with its message well before the test's timeout.
    context.setDefaultTimeout(liveMs);
    page = await context.newPage();
    pageErrors = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
  });
  afterEach(async () => {
    await context?.close();
    expect(pageErrors, "uncaught exceptions in the page").toEqual([]);
  });
  return {
    get srv() {
      return srv ?? expect.fail("the dashboard server has not started");
    },
    get page() {
      return page ?? expect.fail("no page outside a test");
    },
    get browser() {
      return browser ?? expect.fail("the browser has not started");
    },
    watch(p) {
      p.on("pageerror", (err) => pageErrors.push(err.message));
    },
  };
}
