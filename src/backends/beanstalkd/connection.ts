import type { Socket } from "node:net";
import { ClosedError } from "../../errors.ts";
import { dial } from "./dial.ts";
import { breaksFraming, connectionDown } from "./errors.ts";
import { Fifo } from "./fifo.ts";
import { ProtocolError, type Reply, ReplyReader } from "./reply-reader.ts";

/** One request: its bytes, and how to read its reply. */
export interface Command<T> {
  /** For error messages: the command line without any body, e.g. `reserve-with-timeout 5`. */
  readonly name: string;
  /** The command line with its `\r\n`, and for `put` the body and its `\r\n`. */
  readonly bytes: Buffer | string;
  /** Turns the reply into the result; throws (a ZeroG error) when the reply is not one this command expects. */
  decode(reply: Reply): T;
  /** How long the reply may take once every call ahead of it was answered. @defaultValue the connection's `callTimeoutMs` */
  readonly timeoutMs?: number;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  /**
   * How long a call may wait for its reply, counted from when the calls ahead of it were
   * answered. Beanstalkd answers everything but a reserve in microseconds, so a silent server
   * past this is hung or unreachable: the call rejects and the connection is dropped (its other
   * calls reject too; the next call reconnects). @defaultValue 5000
   */
  callTimeoutMs?: number;
  /** A TCP connect that neither succeeds nor fails (a firewalled host) gives up after this. @defaultValue 2000 */
  connectTimeoutMs?: number;
  /**
   * Connect attempts per (re)connect before the waiting calls fail with BackendDownError. With
   * the back-off below, 5 attempts span about 0.75 s: enough to ride out a server restart,
   * short enough that an outage is reported promptly. @defaultValue 5
   */
  connectAttempts?: number;
  /** Back-off before the second attempt, doubling per attempt up to `retryMaxMs`, plus up to 50% jitter. @defaultValue 50 */
  retryBaseMs?: number;
  /** @defaultValue 1000 */
  retryMaxMs?: number;
  /** Commands sent first on every new socket, before any waiting call: the session state to restore. */
  onConnect?: () => readonly Command<unknown>[];
}

export const CONNECTION_DEFAULTS = {
  callTimeoutMs: 5000,
  connectTimeoutMs: 2000,
  connectAttempts: 5,
  retryBaseMs: 50,
  retryMaxMs: 1000,
} as const satisfies Partial<ConnectionOptions>;

/** TCP keep-alive probes on idle connections, so a peer that vanished is noticed within minutes, not hours. */
const KEEPALIVE_DELAY_MS = 30_000;
/** Longest delay setTimeout honours; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Call {
  readonly name: string;
  readonly bytes: Buffer | string;
  readonly timeoutMs: number;
  /** When the reply is overdue; set when the call reaches the head of the reply FIFO. */
  deadline: number;
  answer(reply: Reply): void;
  fail(err: unknown): void;
}

/**
 * One Beanstalkd connection: commands are written as they come (pipelined) and each reply is
 * matched to the oldest unanswered call (the server answers in order). It never hangs a caller:
 * when the socket closes or errs every unanswered call rejects with BackendDownError, a reply
 * overdue past its deadline does the same (and drops the socket), and a reconnect that fails
 * `connectAttempts` times rejects the calls waiting for it. The next call after a drop
 * reconnects, replaying `onConnect` first.
 */
export class BeanstalkConnection {
  readonly #o: Required<Omit<ConnectionOptions, "onConnect">> & Pick<ConnectionOptions, "onConnect">;
  readonly #reader = new ReplyReader();
  readonly #inflight = new Fifo<Call>();
  /** Calls made while no socket is open; sent, in order, once the connect succeeds. */
  #waiting: Call[] = [];
  #socket: Socket | undefined;
  #connecting = false;
  #closed = false;
  #generation = 0;
  #corked = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Aborts a back-off sleep on close. */
  readonly #closing = new AbortController();

  constructor(opts: ConnectionOptions) {
    this.#o = { ...CONNECTION_DEFAULTS, ...opts };
  }

  /** Counts sockets opened: a value seen before a call that differs after means the socket in between was lost. */
  get generation(): number {
    return this.#generation;
  }

  /** Whether a socket is open now. */
  get isOpen(): boolean {
    return this.#socket !== undefined;
  }

  get address(): string {
    return `${this.#o.host}:${this.#o.port}`;
  }

  call<T>(cmd: Command<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) {
        reject(new ClosedError("beanstalkd connection"));
        return;
      }
      const call = this.#callOf(cmd, resolve, reject, reject);
      const socket = this.#socket;
      if (socket) this.#send(socket, call);
      else {
        this.#waiting.push(call);
        this.#connect();
      }
    });
  }

  /** A call for `cmd`: a decoded reply goes to `resolve`, one that fails to decode to `refused`, a lost connection to `fail`. */
  #callOf<T>(
    cmd: Command<T>,
    resolve: (value: T) => void,
    refused: (err: unknown) => void,
    fail: (err: unknown) => void,
  ): Call {
    return {
      name: cmd.name,
      bytes: cmd.bytes,
      timeoutMs: cmd.timeoutMs ?? this.#o.callTimeoutMs,
      deadline: Number.POSITIVE_INFINITY,
      answer: (reply) => {
        let value: T;
        try {
          value = cmd.decode(reply);
        } catch (err) {
          refused(err);
          return;
        }
        resolve(value);
      },
      fail,
    };
  }

  /** Sends `quit` after the calls already made and waits (at most `callTimeoutMs`) for the server to close. */
  async quit(): Promise<void> {
    const socket = this.#socket;
    if (this.#closed || !socket) {
      this.close();
      return;
    }
    this.#closed = true;
    this.#closing.abort();
    const gone = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    const timer = setTimeout(() => socket.destroy(), this.#o.callTimeoutMs);
    this.#write(socket, "quit\r\n");
    await gone;
    clearTimeout(timer);
  }

  /** Drops the socket at once; every unanswered call rejects with ClosedError. */
  close(): void {
    if (this.#closed && !this.#socket) return;
    this.#closed = true;
    this.#closing.abort();
    const closed = new ClosedError("beanstalkd connection");
    for (const call of this.#waiting.splice(0)) call.fail(closed);
    if (this.#socket) this.#drop(this.#socket, undefined);
  }

  #send(socket: Socket, call: Call): void {
    if (this.#inflight.length === 0) this.#startClock(call);
    this.#inflight.push(call);
    this.#write(socket, call.bytes);
  }

  /** Writes made in one tick leave in one packet: pipelined commands cost one system call. */
  #write(socket: Socket, bytes: Buffer | string): void {
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    socket.write(bytes);
  }

  #connect(): void {
    if (this.#connecting || this.#socket || this.#closed) return;
    this.#connecting = true;
    void this.#connectWithRetries();
  }

  async #connectWithRetries(): Promise<void> {
    let socket: Socket | undefined;
    let failure: unknown;
    try {
      socket = await dial(this.#o, this.#closing.signal);
    } catch (err) {
      failure = err;
    }
    this.#connecting = false;
    if (this.#closed) {
      socket?.destroy();
      return;
    }
    if (!socket) {
      for (const call of this.#waiting.splice(0)) call.fail(failure);
      return;
    }
    this.#adopt(socket);
  }

  #adopt(socket: Socket): void {
    this.#socket = socket;
    this.#generation++;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    socket.on("data", (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on("error", (err) => this.#drop(socket, err));
    // The server hung up (quit, shutdown): nothing sent from now on would be answered.
    socket.on("end", () => this.#drop(socket, new Error("the server closed the connection")));
    socket.on("close", () => this.#drop(socket, undefined));
    for (const cmd of this.#o.onConnect?.() ?? []) {
      // A session command that fails leaves the connection in a state its callers did not ask for.
      const call = this.#callOf(
        cmd,
        () => undefined,
        (err) => this.#drop(socket, err),
        () => undefined,
      );
      this.#send(socket, call);
    }
    for (const call of this.#waiting.splice(0)) this.#send(socket, call);
  }

  #onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.#socket) return;
    let replies: Reply[];
    try {
      replies = this.#reader.push(chunk);
    } catch (err) {
      this.#drop(socket, err);
      return;
    }
    for (const reply of replies) {
      if (socket !== this.#socket) return; // an answer dropped the connection
      const call = this.#inflight.shift();
      if (!call) {
        this.#drop(socket, new ProtocolError(`unsolicited reply '${reply.line}'`));
        return;
      }
      const next = this.#inflight.peek();
      if (next) this.#startClock(next);
      call.answer(reply);
      if (breaksFraming(reply.words[0] ?? "")) this.#drop(socket, new ProtocolError(`server answered ${reply.line}`));
    }
  }

  /** The call at the head of the FIFO is the one the server owes now: its deadline starts. */
  #startClock(call: Call): void {
    call.deadline = Date.now() + call.timeoutMs;
    if (call.deadline < this.#timerAt) this.#arm(call.deadline);
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    if (!Number.isFinite(at)) return;
    this.#timer = setTimeout(() => this.#onTimer(), Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    this.#timer.unref();
  }

  /** One timer for the head of the FIFO; a head answered in time leaves it to be re-armed lazily. */
  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const head = this.#inflight.peek();
    const socket = this.#socket;
    if (!head || !socket) return;
    if (head.deadline > Date.now()) {
      this.#arm(head.deadline);
      return;
    }
    this.#inflight.shift();
    head.fail(connectionDown(`no reply to '${head.name}' from ${this.address} within ${head.timeoutMs} ms`));
    this.#drop(socket, new Error(`'${head.name}' timed out`));
  }

  /** The socket is gone (closed, errored, or given up on): every unanswered call rejects. */
  #drop(socket: Socket, err: unknown): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    socket.destroy();
    this.#reader.reset();
    this.#arm(Number.POSITIVE_INFINITY);
    const lost = this.#closed
      ? new ClosedError("beanstalkd connection")
      : connectionDown(`connection to ${this.address} lost${err instanceof Error ? `: ${err.message}` : ""}`, err);
    for (const call of this.#inflight.drain()) call.fail(lost);
  }
}
