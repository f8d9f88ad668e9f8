import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { connectionDown } from "./errors.ts";

export interface DialOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  connectAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * A connected socket, after at most `connectAttempts` tries with exponential back-off (plus up
 * to 50% jitter, so many clients do not retry in lockstep); undefined when `signal` aborts first.
 * Rejects with BackendDownError, naming the last failure, when every attempt failed.
 */
export async function dial(o: DialOptions, signal: AbortSignal): Promise<Socket | undefined> {
  let lastError: unknown;
  for (let attempt = 0; attempt < o.connectAttempts; attempt++) {
    if (attempt > 0) {
      const backoff = Math.min(o.retryBaseMs * 2 ** (attempt - 1), o.retryMaxMs);
      await sleep(backoff * (1 + Math.random() / 2), undefined, { signal }).catch(() => undefined);
    }
    if (signal.aborted) return undefined;
    try {
      const socket = await openSocket(o.host, o.port, o.connectTimeoutMs);
      if (!signal.aborted) return socket;
      socket.destroy();
      return undefined;
    } catch (err) {
      lastError = err;
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw connectionDown(`cannot connect to ${o.host}:${o.port} (${o.connectAttempts} attempts): ${reason}`, lastError);
}

/** One attempt: the connected socket, or the connect error (refused, unreachable, timed out). */
function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    // Stays attached: an error before the connection's own listeners are in place just destroys the socket.
    socket.once("error", (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}
