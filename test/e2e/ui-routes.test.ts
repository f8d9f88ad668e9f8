import { readdirSync, readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Server } from "zerog";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

/**
 * The dashboard's static files (src/server/routes/ui.ts) over real HTTP, on a server whose token
 * guards every read: the files hold no data, so they stay open. The browser tests
 * (dashboard*.test.ts) drive the page itself.
 */
const UI_DIR = new URL("../../src/ui/", import.meta.url);
const TOKEN = "ui-token";

let server: Server;
let base: string;
beforeAll(async () => {
  server = new Server({
    jobs: TEST_JOBS,
    datastore: "memory:",
    queue: "memory:",
    concurrency: 0,
    apiToken: TOKEN,
    protectReads: true,
  });
  base = await server.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await server?.close();
});

const get = (path: string) => fetch(`${base}${path}`, { redirect: "manual" });

describe("dashboard files", () => {
  it("redirects / and /ui to /ui/, which serves index.html, without a token", async () => {
    for (const path of ["/", "/ui"]) {
      const res = await get(path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get("location")).toBe("/ui/");
    }
    const res = await get("/ui/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await res.text()).toBe(readFileSync(new URL("index.html", UI_DIR), "utf8"));
    // The data behind it still needs the token.
    expect((await get("/jobs")).status).toBe(401);
  });

  it("serves every file the page and its modules refer to, with its content type", async () => {
    const html = readFileSync(new URL("index.html", UI_DIR), "utf8");
    const refs = new Set([...html.matchAll(/(?:href|src)="([\w.-]+\.(?:css|js|svg))"/g)].map((m) => m[1] as string));
    for (const file of readdirSync(UI_DIR).filter((f) => f.endsWith(".js"))) {
      const js = readFileSync(new URL(file, UI_DIR), "utf8");
      for (const m of js.matchAll(/from "\.\/([\w.-]+\.js)"/g)) refs.add(m[1] as string);
    }
    expect(refs).toContain("app.js");
    expect(refs).toContain("app.css");
    const types: Record<string, string> = {
      css: "text/css; charset=utf-8",
      js: "text/javascript; charset=utf-8",
      svg: "image/svg+xml",
    };
    for (const file of refs) {
      const res = await get(`/ui/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type"), file).toBe(types[file.split(".").pop() as string]);
      expect(res.headers.get("cache-control"), file).toBe("no-cache");
    }
  });

  it("answers an unknown file, a nested path or a path escape with the JSON 404", async () => {
    for (const path of ["/ui/nope.js", "/ui/a/b.js", "/ui/..%2Fserver%2Fapp.ts", "/ui/%2E%2E%2Fui.ts"]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ error: "ZEROG_ROUTE_NOT_FOUND" });
    }
  });

  it("keeps the dashboard's JavaScript small and out of the OpenAPI document", async () => {
    const js = readdirSync(UI_DIR).filter((f) => f.endsWith(".js"));
    const bytes = js.reduce((n, f) => n + statSync(new URL(f, UI_DIR)).size, 0);
    expect(bytes).toBeLessThan(60 * 1024);
    const doc = (await (
      await fetch(`${base}/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p === "/" || p.startsWith("/ui"))).toEqual([]);
  });
});
