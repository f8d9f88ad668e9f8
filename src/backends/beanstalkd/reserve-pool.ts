import type { BeanstalkClient } from "./client.ts";

/**
 * The connections reserves run on. A connection is in one of three states:
 * - idle: in the pool, holding no job;
 * - reserving: taken by one `reserve` call (a blocked reserve blocks its whole connection);
 * - holding: the one job it reserved is out as a `Reserved` handle, whose delete, release,
 *   touch and bury must go over this connection (the server requires it).
 * It returns to idle when its job is settled or known lost. So there are never more
 * connections than concurrent reserves plus held entries, and an idle connection holds no job,
 * which keeps the server from ever answering its reserves with DEADLINE_SOON.
 */
export class ReservePool {
  /** Most recently used last: taken first, as the one most likely still connected. */
  readonly #idle: BeanstalkClient[] = [];
  readonly #all = new Set<BeanstalkClient>();
  readonly #open: () => BeanstalkClient;

  constructor(open: () => BeanstalkClient) {
    this.#open = open;
  }

  /** Connections open or opening, in any state. */
  get size(): number {
    return this.#all.size;
  }

  /** An idle connection, preferring one that already watches exactly `tubes` (no watch/ignore to send); else a new one. */
  acquire(tubes: readonly string[]): BeanstalkClient {
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const client = this.#idle[i];
      if (client && watchesExactly(client, tubes)) {
        this.#idle.splice(i, 1);
        return client;
      }
    }
    const client = this.#idle.pop() ?? this.#open();
    this.#all.add(client);
    return client;
  }

  /** Back to idle: it holds no job now. */
  release(client: BeanstalkClient): void {
    if (this.#all.has(client)) this.#idle.push(client);
  }

  /** Closed for good: what it was doing is abandoned, and any job it reserved returns to ready. */
  discard(client: BeanstalkClient): void {
    this.#all.delete(client);
    const i = this.#idle.indexOf(client);
    if (i >= 0) this.#idle.splice(i, 1);
    client.close();
  }

  closeAll(): void {
    for (const client of this.#all) client.close();
    this.#all.clear();
    this.#idle.length = 0;
  }
}

function watchesExactly(client: BeanstalkClient, tubes: readonly string[]): boolean {
  const watching = client.watching;
  return watching.size === tubes.length && tubes.every((t) => watching.has(t));
}

/**
 * Makes `client` watch exactly `tubes` (distinct): watches first, so the list never empties
 * (the server refuses to ignore the last tube), then ignores. Pipelined: callers need not wait
 * before sending the reserve, which the server runs after these.
 */
export function watchExactly(client: BeanstalkClient, tubes: readonly string[]): Promise<unknown> {
  const sent: Promise<unknown>[] = [];
  for (const tube of tubes) if (!client.watching.has(tube)) sent.push(client.watch(tube));
  const wanted = new Set(tubes);
  for (const tube of [...client.watching]) if (!wanted.has(tube)) sent.push(client.ignore(tube));
  return Promise.all(sent);
}
