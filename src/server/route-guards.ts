import type { FastifyInstance, RouteOptions } from "fastify";
import { InvalidConfigError } from "../errors.ts";

/**
 * Who may call a route when an API token is set (docs/api.md, "Authentication"):
 * - `"open"`: anyone, always (/health, the dashboard's files, CORS preflights);
 * - `"read"`: anyone, unless `protectReads` is on (progress, info, listing, discovery, events…);
 * - `"token"`: only with `Authorization: Bearer <token>` (everything that changes something, and
 *   the fleet and metrics reads).
 *
 * The decision is made on the route the router matched, never on the request's URL text, so no
 * spelling of a path (`/%77orkers`, an absolute-form target, a `#fragment`) reaches a route
 * without its guard.
 */
export type RouteGuard = "open" | "read" | "token";

export const ROUTE_GUARDS: readonly RouteGuard[] = ["open", "read", "token"];

declare module "fastify" {
  interface FastifyContextConfig {
    /** Every route declares one (`{ config: { guard: "read" } }`); the app refuses to start otherwise. */
    guard?: RouteGuard;
    /** GET only: the token may also come as `?access_token=` (a browser's EventSource cannot send headers). */
    queryToken?: boolean;
  }
}

/** One route as registered, with the guard it declared (undefined: none, which start-up refuses). */
export interface GuardedRoute {
  method: string;
  /** Fastify's form: `/job/:jobType`. */
  url: string;
  guard: RouteGuard | undefined;
}

/**
 * Routes that ZeroG's plugins add without a way to pass a `config`, by `METHOD url`:
 * @fastify/cors answers every preflight from one `OPTIONS *` route.
 */
const PLUGIN_ROUTE_GUARDS: Readonly<Record<string, RouteGuard>> = { "OPTIONS *": "open" };

/** Methods that only read: any other method must be guarded by the token. */
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const registered = new WeakMap<FastifyInstance, RouteOptions[]>();

/**
 * Records every route registered after this call (Fastify's own HEAD routes included) and, when
 * the app is ready, refuses to start if one declares no guard, an unknown one, or anything weaker
 * than `"token"` for a method that changes something. Call it before any route is added.
 */
export function checkRouteGuards(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  registered.set(app, routes);
  app.addHook("onRoute", (r: RouteOptions) => {
    for (const method of [r.method].flat()) {
      const known = PLUGIN_ROUTE_GUARDS[`${method} ${r.url}`];
      if (known && r.config?.guard === undefined) r.config = { ...r.config, guard: known };
    }
    // Hooks of plugin scopes (guardEveryRoute) run after this one: the check waits for onReady.
    routes.push(r);
  });
  app.addHook("onReady", async () => {
    const bad: string[] = [];
    for (const r of routeGuardsOf(app)) {
      if (r.guard === undefined || !ROUTE_GUARDS.includes(r.guard)) bad.push(`${r.method} ${r.url} declares no guard`);
      else if (!READ_METHODS.has(r.method) && r.guard !== "token")
        bad.push(`${r.method} ${r.url} changes something but declares guard '${r.guard}' (it must be 'token')`);
    }
    if (bad.length > 0)
      throw new InvalidConfigError(
        `every route must declare who may call it (config: { guard: "open" | "read" | "token" }): ${bad.join("; ")}`,
      );
  });
}

/** Gives every route registered in this plugin scope (a plugin's routes) `guard`, unless it declares one. */
export function guardEveryRoute(scope: FastifyInstance, guard: RouteGuard): void {
  scope.addHook("onRoute", (r: RouteOptions) => {
    if (r.config?.guard === undefined) r.config = { ...r.config, guard };
  });
}

/** Every route of the app with its guard, one entry per method (tests build their table from it). */
export function routeGuardsOf(app: FastifyInstance): GuardedRoute[] {
  const out: GuardedRoute[] = [];
  for (const r of registered.get(app) ?? []) {
    for (const method of [r.method].flat()) out.push({ method, url: r.url, guard: r.config?.guard });
  }
  return out;
}
