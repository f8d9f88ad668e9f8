import * as cmd from "./commands.ts";
import { BeanstalkConnection, type Command, type ConnectionOptions } from "./connection.ts";
import type { JobStats, ServerStats, TubeStats } from "./stats.ts";

export type { Job, PutParams, ReserveResult } from "./commands.ts";

export interface BeanstalkClientOptions extends Omit<ConnectionOptions, "onConnect"> {
  /**
   * A `reserve-with-timeout N` may take N seconds plus this before its connection counts as
   * broken: the server times out on its own clock, in whole seconds, and a loaded host may
   * answer a little late. @defaultValue 2000
   */
  reserveMarginMs?: number;
}

export const CLIENT_DEFAULTS = { reserveMarginMs: 2000 } as const satisfies Partial<BeanstalkClientOptions>;

/** The tube a new connection uses and watches. */
const DEFAULT_TUBE = "default";

/**
 * A Beanstalkd client on one connection. Calls may overlap: they are pipelined and answered
 * in order. The tube it uses and the tubes it watches are tracked as they are sent, and
 * restored first on every reconnect, so a put after a server restart lands in the tube last
 * `use`d and a reserve watches the tubes last `watch`ed.
 *
 * A blocked `reserve` holds up every later call on its connection (the server answers in
 * order), and release/touch/bury/delete of a reserved job work only on the connection that
 * reserved it: give each concurrent reserver a client of its own.
 */
export class BeanstalkClient {
  readonly #conn: BeanstalkConnection;
  readonly #reserveMarginMs: number;
  #using = DEFAULT_TUBE;
  readonly #watching = new Set<string>([DEFAULT_TUBE]);

  constructor(opts: BeanstalkClientOptions) {
    const { reserveMarginMs, ...connection } = opts;
    this.#reserveMarginMs = reserveMarginMs ?? CLIENT_DEFAULTS.reserveMarginMs;
    this.#conn = new BeanstalkConnection({ ...connection, onConnect: () => this.#sessionCommands() });
  }

  /** The tube puts go to (as of the last `use` sent). */
  get using(): string {
    return this.#using;
  }

  /** The tubes reserves take from (as of the last `watch`/`ignore` sent). */
  get watching(): ReadonlySet<string> {
    return this.#watching;
  }

  /** Changes whenever a new socket opens: a reservation made on an older one is gone. */
  get generation(): number {
    return this.#conn.generation;
  }

  get isOpen(): boolean {
    return this.#conn.isOpen;
  }

  /** Opens the connection now (calls open it on demand); BackendDownError when the server cannot be reached. */
  async connect(): Promise<void> {
    await this.#conn.call(cmd.listTubeUsed());
  }

  /** Puts into the used tube; resolves with the job id. */
  async put(body: Buffer | string, params: cmd.PutParams): Promise<string> {
    return this.#conn.call(cmd.put(typeof body === "string" ? Buffer.from(body, "utf8") : body, params));
  }

  /** Sends nothing when the tube is already the one in use. */
  async use(tube: string): Promise<void> {
    if (tube === this.#using) return;
    const command = cmd.use(tube);
    this.#using = tube;
    await this.#conn.call(command);
  }

  async watch(tube: string): Promise<number> {
    const command = cmd.watch(tube);
    this.#watching.add(tube);
    return this.#conn.call(command);
  }

  /** The server refuses to ignore the last watched tube (NOT_IGNORED, which rejects). */
  async ignore(tube: string): Promise<number> {
    const command = cmd.ignore(tube);
    if (this.#watching.size > 1) this.#watching.delete(tube);
    return this.#conn.call(command);
  }

  /** Waits without limit: only a job, DEADLINE_SOON, or closing the client ends it. */
  async reserve(): Promise<cmd.ReserveResult> {
    return this.#conn.call(cmd.reserve());
  }

  async reserveWithTimeout(seconds: number): Promise<cmd.ReserveResult> {
    return this.#conn.call(cmd.reserveWithTimeout(seconds, this.#reserveMarginMs));
  }

  /** false: no such job, or it is reserved by another connection. */
  async delete(id: string): Promise<boolean> {
    return this.#conn.call(cmd.deleteJob(id));
  }

  async release(id: string, priority: number, delaySeconds: number): Promise<"released" | "buried" | "not-found"> {
    return this.#conn.call(cmd.release(id, priority, delaySeconds));
  }

  async touch(id: string): Promise<boolean> {
    return this.#conn.call(cmd.touch(id));
  }

  async bury(id: string, priority: number): Promise<boolean> {
    return this.#conn.call(cmd.bury(id, priority));
  }

  /** Kicks up to `bound` jobs of the used tube: its buried ones if it has any, else its delayed ones. */
  async kick(bound: number): Promise<number> {
    return this.#conn.call(cmd.kick(bound));
  }

  async kickJob(id: string): Promise<boolean> {
    return this.#conn.call(cmd.kickJob(id));
  }

  async peek(id: string): Promise<cmd.Job | null> {
    return this.#conn.call(cmd.peek(id));
  }

  async statsJob(id: string): Promise<JobStats | null> {
    return this.#conn.call(cmd.statsJob(id));
  }

  async statsTube(tube: string): Promise<TubeStats | null> {
    return this.#conn.call(cmd.statsTube(tube));
  }

  async stats(): Promise<ServerStats> {
    return this.#conn.call(cmd.stats());
  }

  async listTubes(): Promise<string[]> {
    return this.#conn.call(cmd.listTubes());
  }

  /** What the server says this connection uses (not the tracked `using`). */
  async listTubeUsed(): Promise<string> {
    return this.#conn.call(cmd.listTubeUsed());
  }

  /** What the server says this connection watches (not the tracked `watching`). */
  async listTubesWatched(): Promise<string[]> {
    return this.#conn.call(cmd.listTubesWatched());
  }

  /** Lets calls already made be answered, then closes (the server hangs up on `quit`). */
  quit(): Promise<void> {
    return this.#conn.quit();
  }

  /** Closes at once: unanswered calls reject with ClosedError, and jobs this connection reserved return to ready. */
  close(): void {
    this.#conn.close();
  }

  /** What a new socket must be told first to be in the state callers set. */
  #sessionCommands(): Command<unknown>[] {
    const out: Command<unknown>[] = [];
    if (this.#using !== DEFAULT_TUBE) out.push(cmd.use(this.#using));
    for (const tube of this.#watching) if (tube !== DEFAULT_TUBE) out.push(cmd.watch(tube));
    if (!this.#watching.has(DEFAULT_TUBE)) out.push(cmd.ignore(DEFAULT_TUBE));
    return out;
  }
}
