import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `probe` every `intervalMs` until it returns a value other than undefined; for state in another process. */
export async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * The next `name` event of `emitter` (its arguments), or a rejection naming it after `timeoutMs`.
 * It listens from the call on: call it before whatever causes the event.
 */
export async function nextEvent(emitter: NodeJS.EventEmitter, name: string, timeoutMs = 15_000): Promise<unknown[]> {
  try {
    return await once(emitter, name, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (err instanceof Error && err.name === "AbortError") throw new Error(`no '${name}' event within ${timeoutMs} ms`);
    throw err;
  }
}
