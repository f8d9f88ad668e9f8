import type { ZeroGError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { Backend } from "./backend.ts";

/** What a driver's store can serve, as data: which halves, and whether it keeps a fleet. */
export interface DriverProvides {
  /** It holds job documents (a `Datastore`). */
  readonly datastore: boolean;
  /** It holds queue entries (a `Queue`). */
  readonly queue: boolean;
  /** Its datastore side keeps the fleet (a `FleetStore`); the fleet always lives with the documents. */
  readonly fleet: boolean;
}

/** What the code that opens a backend needs to know about a driver beyond `provides`. */
export interface DriverCapabilities {
  /**
   * When the datastore and the queue URLs name the same store (`sameStore`), one backend serves
   * both and creating a job or recording its outcome is one atomic step (a transaction, one SQL
   * statement, one Lua script). False: each URL opens its own store, joined by `SeparateBackend`.
   */
  readonly oneTransaction: boolean;
  /**
   * Several processes, on one machine or many, may share the store. False: it lives and dies with
   * the process that opened it (memory), so nothing can be lost between two processes.
   */
  readonly multiProcess: boolean;
  /**
   * How a new entry reaches a reserve waiting on the queue (drivers that provide one).
   * `"cross-process"`: reserves waiting in any process wake at once (PostgreSQL LISTEN/NOTIFY,
   * Redis pub/sub, Beanstalkd's own blocking reserve). `"in-process"`: reserves in the process
   * that put the entry wake at once; other processes find it on their next poll.
   */
  readonly notifications?: "cross-process" | "in-process";
  /**
   * How `Datastore.list` (`GET /jobs`) finds jobs (drivers that provide a datastore).
   * `"indexed"`: from an index by type and status in listing order, so a page costs the same
   * however many jobs are stored. `"scan"`: by reading every document, for small stores.
   */
  readonly listing?: "indexed" | "scan";
}

/** What `openBackend` passes on to a driver's `open…` functions. */
export interface DriverOpenOptions {
  /** Source of every stored time. @defaultValue systemClock */
  readonly clock?: Clock;
}

/** The datastore half of a store, with its fleet; `close` ends whatever the half holds open. */
export type DatastoreHalf = Pick<Backend, "datastore" | "fleet" | "close">;

/** The queue half of a store; `close` ends whatever the half holds open. */
export type QueueHalf = Pick<Backend, "queue" | "close">;

/**
 * A backend driver as data: the URL schemes it answers to, what it provides, how it parses its
 * URLs (with its own errors) and how it opens them. Register one with `registerDriver`; the
 * built-in ones live in `src/backends/<name>/driver.ts`. `Config` is the driver's parsed URL,
 * which only ever goes back to the same driver.
 */
export interface BackendDriver<Config = unknown> {
  /** Shown in messages, e.g. "postgres". */
  readonly name: string;
  /** Lowercase URL schemes with their colon, e.g. `["postgres:", "postgresql:"]`. */
  readonly schemes: readonly string[];
  /** One example URL for the list of supported forms, e.g. "redis://host:6379[/db][?prefix=zerog]". */
  readonly example: string;
  readonly provides: DriverProvides;
  readonly capabilities: DriverCapabilities;
  /** Parses a URL with one of `schemes`; throws InvalidConfigError saying what is wrong. */
  parseUrl(url: string): Config;
  /** Whether two parsed URLs name one store (one file, schema or prefix). Absent: never. */
  sameStore?(a: Config, b: Config): boolean;
  /** Opens one backend serving both contracts; needed where `provides` has both halves. */
  open?(config: Config, opts: DriverOpenOptions): Promise<Backend>;
  /** Opens the datastore half alone. @defaultValue `open` */
  openDatastore?(config: Config, opts: DriverOpenOptions): Promise<DatastoreHalf>;
  /** Opens the queue half alone. @defaultValue `open` */
  openQueue?(config: Config, opts: DriverOpenOptions): Promise<QueueHalf>;
  /**
   * A coded error for an error of its client library that reached the HTTP layer as it was thrown
   * (SQLite's busy or I/O codes become ZEROG_BACKEND_DOWN), or undefined when it is not one.
   */
  mapError?(err: unknown): ZeroGError | undefined;
  /** The message when a URL of this driver is given for a half it lacks. @defaultValue a generic one */
  misuseMessage?(half: "datastore" | "queue", url: string): string;
}
