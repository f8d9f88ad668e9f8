import { createClient } from "redis";
import { BackendStalledError, InvalidConfigError } from "../../errors.ts";
import { mapRedisError } from "./errors.ts";
import { StallWatch } from "./stall-watch.ts";

/**
 * 5 s, as PostgreSQL's: Redis answers ZeroG's commands in well under a millisecond, so a call
 * unanswered for 5 s means the server is stalled or cut off, and the HTTP API answers 503 before
 * most clients' and load balancers' own limits. The URL parameter `timeoutMs` changes it.
 */
export const REDIS_TIMEOUT_MS = 5000;
/** ZeroG's own URL parameter for the time limit of every call (node-redis never sees it). */
const TIMEOUT_PARAM = "timeoutMs";

/**
 * Connect attempts a fresh connection makes before giving up. A few, so a server still
 * starting up is waited for, but an open against a wrong URL fails in well under a second.
 */
const FIRST_CONNECT_ATTEMPTS = 3;
/**
 * Back-off after a dropped connection: doubling from 50 ms up to 500 ms, so a restarted server
 * is found within half a second; a refused connect costs next to nothing, even over a long outage.
 */
const RECONNECT_BASE_MS = 50;
const RECONNECT_MAX_MS = 500;
/** Up to this much random extra delay, so many processes do not reconnect in lockstep. */
const RECONNECT_JITTER_MS = 100;
/** A TCP connect that hangs (a firewalled host) gives up after 2 s instead of node-redis's 5 s. */
const CONNECT_TIMEOUT_MS = 2000;

/**
 * How long a call made while the connection is down waits for the reconnect before failing
 * with BackendDownError: longer than one back-off step (RECONNECT_MAX_MS + jitter), so the first
 * call after the server returns rides the next attempt; short enough that the HTTP API answers
 * 503 promptly during an outage instead of hanging.
 */
const OFFLINE_WAIT_MS = 1000;

/** Called with each connection error; they also reach callers as BackendDownError. */
export type RedisErrorListener = (err: Error) => void;

/** Whether a connection has been ready once: until then a failed connect is not retried for long. */
interface ConnectState {
  everReady: boolean;
}

/**
 * Socket options for one connection: bounded exponential back-off forever once it has been
 * ready, but only FIRST_CONNECT_ATTEMPTS tries while it never was (so `connect()` rejects).
 */
function socketOptions(state: ConnectState) {
  return {
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: (retries: number, cause: Error): number | Error => {
      if (!state.everReady && retries + 1 >= FIRST_CONNECT_ATTEMPTS) return cause;
      const backoff = Math.min(RECONNECT_BASE_MS * 2 ** retries, RECONNECT_MAX_MS);
      return backoff + Math.floor(Math.random() * RECONNECT_JITTER_MS);
    },
  };
}

function newClient(url: string, state: ConnectState) {
  return createClient({
    url,
    // Commands sent while disconnected fail at once (BackendDownError) instead of waiting,
    // unbounded, for a reconnect: the HTTP API answers 503 rather than hanging.
    disableOfflineQueue: true,
    socket: socketOptions(state),
    // No per-command timer: node-redis's default arms an AbortSignal.timeout for every command,
    // measured at ~10% of a worker's CPU, and it only covers a command's wait to be written, not
    // for its answer. A StallWatch per connection bounds the answers instead (see onceReady).
    commandOptions: { timeout: 0 },
    // Redis Enterprise maintenance notifications: not used, and they add a handshake step.
    maintNotifications: "disabled",
  });
}

/** A connected node-redis client, as ZeroG's Redis backend uses it. */
export type RedisConnection = ReturnType<typeof newClient>;

/** Per connection, the watch that bounds its calls (see StallWatch). */
const watches = new WeakMap<RedisConnection, StallWatch>();

/**
 * Connects `client`, listening for errors (an unhandled 'error' event would crash the process
 * when the server drops the connection). Rejects with BackendDownError when the server cannot
 * be reached, and with BackendStalledError when it accepts the connection but does not answer
 * within `timeoutMs`, after destroying the client.
 */
async function start(
  client: RedisConnection,
  state: ConnectState,
  timeoutMs: number,
  onError: RedisErrorListener,
): Promise<RedisConnection> {
  client.on("error", onError);
  const watch = new StallWatch(timeoutMs);
  watches.set(client, watch);
  // A reconnect is a new socket: whatever stalled the old one is gone with it.
  client.on("ready", () => watch.reset());
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    // node-redis's connectTimeout covers the TCP connect only; a frozen server accepts that and
    // then never answers the handshake.
    timer = setTimeout(() => reject(new BackendStalledError("redis", timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), stalled]);
    state.everReady = true;
    return client;
  } catch (err) {
    client.destroy();
    throw mapRedisError(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `url` without ZeroG's `timeoutMs` parameter, and that parameter's value (REDIS_TIMEOUT_MS when
 * it is absent). A URL that does not parse is returned as it is, for node-redis to report.
 */
export function splitTimeout(url: string): { url: string; timeoutMs: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, timeoutMs: REDIS_TIMEOUT_MS };
  }
  const raw = parsed.searchParams.get(TIMEOUT_PARAM);
  if (raw === null) return { url, timeoutMs: REDIS_TIMEOUT_MS };
  const timeoutMs = Number(raw);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new InvalidConfigError(`redis ${TIMEOUT_PARAM} '${raw}' must be a whole number of milliseconds, 1 or more`);
  }
  parsed.searchParams.delete(TIMEOUT_PARAM);
  return { url: parsed.toString(), timeoutMs };
}

/**
 * A client connected to the Redis server at `url` (`redis://host:port/db[?timeoutMs=5000]`):
 * every call made through onceReady gets `timeoutMs` to be answered.
 */
export function connectRedis(url: string, onError: RedisErrorListener = () => undefined): Promise<RedisConnection> {
  const state = { everReady: false };
  const split = splitTimeout(url);
  return start(newClient(split.url, state), state, split.timeoutMs, onError);
}

/**
 * A second connection to `client`'s server, for what must not share its command stream
 * (subscribing puts a connection in pub/sub mode), with the same time limit.
 */
export function duplicateConnection(
  client: RedisConnection,
  onError: RedisErrorListener = () => undefined,
): Promise<RedisConnection> {
  const state = { everReady: false };
  return start(client.duplicate({ socket: socketOptions(state) }), state, timeoutOf(client), onError);
}

/** The time limit of `client`'s calls. */
export function timeoutOf(client: RedisConnection): number {
  return watches.get(client)?.timeoutMs ?? REDIS_TIMEOUT_MS;
}

/** Whether `client` is stalled now: a call waited past its time limit, and no answer has come since. */
export function isStalled(client: RedisConnection): boolean {
  return watches.get(client)?.stalled ?? false;
}

/** Per client, the wait in progress for its reconnect (one 'ready' listener however many callers wait). */
const reconnects = new WeakMap<RedisConnection, Promise<void>>();

/**
 * Resolves once `client` is connected, or after OFFLINE_WAIT_MS while it is reconnecting (the
 * call that follows then fails fast: the offline queue is disabled). At once when it is ready
 * or closed.
 */
export function untilReady(client: RedisConnection): Promise<void> {
  if (client.isReady || !client.isOpen) return Promise.resolve();
  let wait = reconnects.get(client);
  if (!wait) {
    wait = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        client.off("ready", done);
        reconnects.delete(client);
        resolve();
      };
      const timer = setTimeout(done, OFFLINE_WAIT_MS);
      client.once("ready", done);
    });
    reconnects.set(client, wait);
  }
  return wait;
}

/**
 * Runs `op` on `client` once it is connected (see untilReady), mapping failures with
 * mapRedisError. A connected client runs it at once, without waiting a turn. The whole call
 * (the reconnect wait included) gets the connection's time limit: past it, or at once while the
 * connection is stalled, it fails with BackendStalledError (see StallWatch).
 */
export function onceReady<T>(client: RedisConnection, op: () => Promise<T>): Promise<T> {
  const run = client.isReady ? op : () => untilReady(client).then(op);
  const watch = watches.get(client);
  if (watch) return watch.run(run, mapRedisError);
  return attempt(run).catch((err: unknown) => {
    throw mapRedisError(err);
  });
}

/** `op()`, with a synchronous throw turned into a rejection. */
function attempt<T>(op: () => Promise<T>): Promise<T> {
  try {
    return op();
  } catch (err) {
    return Promise.reject(err);
  }
}
