import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply } from "fastify";
import { ZeroGError } from "../../errors.ts";

/** The dashboard's files: src/ui/ beside src/server/, and dist/ui/ beside dist/server/ after a build. */
const UI_DIR = new URL("../../ui/", import.meta.url);

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
};

/**
 * Same-origin only: the page loads nothing from elsewhere and talks to this API alone, so an
 * injected script or a framing page gets nowhere. Inline scripts and style attributes are refused too.
 */
const CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Asset {
  type: string;
  body: Buffer;
}

/**
 * The dashboard (docs/dashboard.md): `GET /` and `GET /ui` redirect to `/ui/`, which serves
 * index.html; `GET /ui/<file>` serves the other static files (any other path under /ui/ is a
 * 404). They are read once, here, so a request never touches the disk. They hold no data (the page reads the REST API), so the API
 * token never guards them. Hidden from the OpenAPI document: they are not API.
 */
export function registerUiRoutes(app: FastifyInstance): void {
  const assets = readAssets();
  const hide = { schema: { hide: true }, config: { guard: "open" } } as const;
  const send = (reply: FastifyReply, name: string) => {
    const asset = assets.get(name);
    if (!asset) throw new ZeroGError("ZEROG_ROUTE_NOT_FOUND", `no dashboard file '${name}'`);
    reply.type(asset.type).header("cache-control", "no-cache").header("x-content-type-options", "nosniff");
    if (asset.type.startsWith("text/html")) reply.header("content-security-policy", CSP);
    return reply.send(asset.body);
  };
  app.get("/", hide, async (_req, reply) => reply.redirect("/ui/", 302));
  app.get("/ui", hide, async (_req, reply) => reply.redirect("/ui/", 302));
  app.get("/ui/", hide, async (_req, reply) => send(reply, "index.html"));
  // Every path under /ui/ is the dashboard's, nested ones too (404 but never guarded), so a wrong
  // link answers the same with or without the API token.
  app.get<{ Params: { "*": string } }>("/ui/*", hide, async (req, reply) => send(reply, req.params["*"]));
}

/** File name → content; only the extensions above, and none when the folder is missing (a build without assets). */
function readAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(UI_DIR)) return assets;
  for (const name of readdirSync(UI_DIR)) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf(".") + 1)];
    if (type) assets.set(name, { type, body: readFileSync(new URL(name, UI_DIR)) });
  }
  return assets;
}
