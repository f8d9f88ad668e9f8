import type { BackendDriver } from "../contracts/driver.ts";
import { InvalidConfigError, type ZeroGError } from "../errors.ts";
import { beanstalkDriver } from "./beanstalkd/driver.ts";
import { couchbaseDriver } from "./couchbase/driver.ts";
import { memoryDriver } from "./memory/driver.ts";
import { postgresDriver } from "./postgres/driver.ts";
import { redisDriver } from "./redis/driver.ts";
import { sqliteDriver } from "./sqlite/driver.ts";

/** The drivers ZeroG ships, in the order the list of supported URLs shows them. */
export const BUILT_IN_DRIVERS = [
  memoryDriver,
  sqliteDriver,
  postgresDriver,
  redisDriver,
  beanstalkDriver,
  couchbaseDriver,
] as const;

/** The parsed URL of a built-in driver. */
export type BuiltInUrl = ReturnType<(typeof BUILT_IN_DRIVERS)[number]["parseUrl"]>;

/**
 * A driver with its config type erased. Sound because a config only ever comes from the
 * driver's own `parseUrl` and goes back to the same driver (see `ResolvedUrl`).
 */
type AnyDriver = BackendDriver<unknown>;

/** Every registered driver, in registration order, and the scheme → driver index. */
const drivers: AnyDriver[] = [];
const byScheme = new Map<string, AnyDriver>();

/**
 * Makes the driver's schemes usable in every backend URL (`openBackend`, `Server`, `Worker`,
 * `zerog serve`). Refuses, with InvalidConfigError, a scheme already taken or a descriptor whose
 * `provides` its `open…` functions cannot serve.
 */
export function registerDriver<Config>(driver: BackendDriver<Config>): void {
  const schemes = driver.schemes.map((s) => s.toLowerCase());
  for (const scheme of schemes) {
    if (!/^[a-z][a-z0-9+.-]*:$/.test(scheme)) {
      throw new InvalidConfigError(`driver '${driver.name}': scheme '${scheme}' must look like 'name:'`);
    }
    const taken = byScheme.get(scheme);
    if (taken) {
      throw new InvalidConfigError(
        `driver '${driver.name}': scheme '${scheme}' is already registered by driver '${taken.name}'`,
      );
    }
  }
  const { provides } = driver;
  if (!provides.datastore && !provides.queue) {
    throw new InvalidConfigError(`driver '${driver.name}' provides neither a datastore nor a queue`);
  }
  if (provides.datastore && !driver.openDatastore && !driver.open) {
    throw new InvalidConfigError(`driver '${driver.name}' provides a datastore but has no open or openDatastore`);
  }
  if (provides.queue && !driver.openQueue && !driver.open) {
    throw new InvalidConfigError(`driver '${driver.name}' provides a queue but has no open or openQueue`);
  }
  if (provides.queue && !driver.capabilities.notifications) {
    throw new InvalidConfigError(
      `driver '${driver.name}' provides a queue but does not say how it notifies (capabilities.notifications)`,
    );
  }
  if (provides.datastore && !driver.capabilities.listing) {
    throw new InvalidConfigError(
      `driver '${driver.name}' provides a datastore but does not say how it lists (capabilities.listing)`,
    );
  }
  if (driver.capabilities.oneTransaction && !(provides.datastore && provides.queue && driver.open)) {
    throw new InvalidConfigError(
      `driver '${driver.name}': oneTransaction needs both halves and an open() serving them together`,
    );
  }
  const erased = driver as unknown as AnyDriver;
  drivers.push(erased);
  for (const scheme of schemes) byScheme.set(scheme, erased);
}

for (const driver of BUILT_IN_DRIVERS) registerDriver(driver as BackendDriver<unknown>);

/** A URL and the driver that parsed it. */
export interface ResolvedUrl {
  readonly url: string;
  readonly driver: AnyDriver;
  readonly config: unknown;
}

/** Finds the driver for `url`'s scheme and parses it; an unknown scheme is refused with the supported forms. */
export function resolveUrl(url: string): ResolvedUrl {
  const colon = url.indexOf(":");
  const driver = colon > 0 ? byScheme.get(url.slice(0, colon + 1).toLowerCase()) : undefined;
  if (!driver) throw new InvalidConfigError(`unsupported backend URL '${url}'; supported: ${supportedForms()}`);
  return { url, driver, config: driver.parseUrl(url) };
}

/** One example URL per registered driver, saying which serve one half only. */
export function supportedForms(): string {
  return drivers
    .map(({ example, provides }) =>
      provides.queue && !provides.datastore
        ? `${example} (queue only)`
        : provides.datastore && !provides.queue
          ? `${example} (datastore only)`
          : example,
    )
    .join(", ");
}

/** A registered driver's coded error for `err`, thrown by its client library, or undefined. */
export function mapDriverError(err: unknown): ZeroGError | undefined {
  for (const driver of drivers) {
    const mapped = driver.mapError?.(err);
    if (mapped) return mapped;
  }
  return undefined;
}

/** The example URL of every registered driver that provides `half`, e.g. for `zerog serve --help`. */
export function formsFor(half: "datastore" | "queue"): string {
  return drivers
    .filter((d) => d.provides[half])
    .map((d) => d.example)
    .join(", ");
}
