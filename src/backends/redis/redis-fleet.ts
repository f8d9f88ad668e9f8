import type { ControlMessage, FleetStore, WorkerRecord } from "../../contracts/fleet.ts";
import { byWorkerId, purgeCutoff } from "../../contracts/fleet-expiry.ts";
import { ClosedError } from "../../errors.ts";
import { onceReady, type RedisConnection } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { asArray, runScript } from "./scripts.ts";

/**
 * The fleet under the backend's prefix (`{p}:fleet:…`, see src/backends/redis/keys.ts), shared by every
 * process on the prefix. Writes that touch several keys are one MULTI (atomic on the server);
 * the listing, which decides what to delete, is one script (lua/fleet-list.lua). Uses the
 * backend's connection without owning it; failures come back mapped (src/backends/redis/errors.ts).
 */
export class RedisFleetStore implements FleetStore {
  readonly #client: RedisConnection;
  readonly #keys: RedisKeys;

  constructor(client: RedisConnection, keys: RedisKeys) {
    this.#client = client;
    this.#keys = keys;
  }

  async announce(record: WorkerRecord): Promise<void> {
    const k = this.#keys;
    await this.#run(() =>
      this.#client
        .multi()
        .hSet(k.fleetWorkers, record.workerId, JSON.stringify(record))
        .zAdd(k.fleetExpiry, { score: record.expiresAtMs, value: record.workerId })
        .exec(),
    );
  }

  async listWorkers(nowMs: number): Promise<WorkerRecord[]> {
    this.#open();
    const k = this.#keys;
    const keys = [k.fleetWorkers, k.fleetExpiry];
    const reply = await runScript(this.#client, "fleet-list", keys, [k.fleetInboxPrefix, nowMs, purgeCutoff(nowMs)]);
    return asArray(reply)
      .map((json) => JSON.parse(String(json)) as WorkerRecord)
      .sort(byWorkerId);
  }

  async getWorker(workerId: string): Promise<WorkerRecord | null> {
    const json = await this.#run(() => this.#client.hGet(this.#keys.fleetWorkers, workerId));
    return json == null ? null : (JSON.parse(json) as WorkerRecord);
  }

  async removeWorker(workerId: string): Promise<boolean> {
    const k = this.#keys;
    const [removed] = await this.#run(() =>
      this.#client
        .multi()
        .hDel(k.fleetWorkers, workerId)
        .zRem(k.fleetExpiry, workerId)
        .del(k.fleetInbox(workerId))
        .exec(),
    );
    return Number(removed) > 0;
  }

  async sendControl(workerId: string, msg: ControlMessage): Promise<void> {
    await this.#run(() => this.#client.rPush(this.#keys.fleetInbox(workerId), JSON.stringify(msg)));
  }

  /** LRANGE and DEL in one MULTI: nothing runs between them, so of two takers one gets all, the other none. */
  async takeControl(workerId: string): Promise<ControlMessage[]> {
    const inbox = this.#keys.fleetInbox(workerId);
    const [messages] = await this.#run(() => this.#client.multi().lRange(inbox, 0, -1).del(inbox).exec());
    if (!Array.isArray(messages)) throw new Error(`Redis answered ${JSON.stringify(messages)} for LRANGE`);
    return messages.map((json) => JSON.parse(String(json)) as ControlMessage);
  }

  async setPaused(jobType: string, paused: boolean): Promise<void> {
    const key = this.#keys.fleetPaused;
    await this.#run(() => (paused ? this.#client.sAdd(key, jobType) : this.#client.sRem(key, jobType)));
  }

  async pausedTypes(): Promise<string[]> {
    const members = await this.#run(() => this.#client.sMembers(this.#keys.fleetPaused));
    return members.map(String).sort();
  }

  /** `op` once the connection is ready, with failures mapped; ClosedError after the backend closed. */
  #run<T>(op: () => Promise<T>): Promise<T> {
    this.#open();
    return onceReady(this.#client, op);
  }

  #open(): void {
    if (!this.#client.isOpen) throw new ClosedError("redis fleet");
  }
}
