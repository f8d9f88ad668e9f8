import type { ControlMessage, FleetStore, WorkerRecord } from "../../contracts/fleet.ts";
import { byWorkerId, purgeCutoff } from "../../contracts/fleet-expiry.ts";

interface StoredWorker {
  json: string;
  expiresAtMs: number;
}

/**
 * The fleet in this process's memory, kept as JSON so callers never share objects with it (and
 * records round-trip as they would through a real store). For the memory backend: one process.
 */
export class MemoryFleetStore implements FleetStore {
  readonly #workers = new Map<string, StoredWorker>();
  readonly #inboxes = new Map<string, string[]>();
  readonly #paused = new Set<string>();

  async announce(record: WorkerRecord): Promise<void> {
    this.#workers.set(record.workerId, { json: JSON.stringify(record), expiresAtMs: record.expiresAtMs });
  }

  async listWorkers(nowMs: number): Promise<WorkerRecord[]> {
    const cutoff = purgeCutoff(nowMs);
    const live: WorkerRecord[] = [];
    for (const [workerId, w] of this.#workers) {
      if (w.expiresAtMs < cutoff) {
        this.#workers.delete(workerId);
        this.#inboxes.delete(workerId);
      } else if (w.expiresAtMs > nowMs) live.push(JSON.parse(w.json) as WorkerRecord);
    }
    return live.sort(byWorkerId);
  }

  async getWorker(workerId: string): Promise<WorkerRecord | null> {
    const w = this.#workers.get(workerId);
    return w ? (JSON.parse(w.json) as WorkerRecord) : null;
  }

  async removeWorker(workerId: string): Promise<boolean> {
    this.#inboxes.delete(workerId);
    return this.#workers.delete(workerId);
  }

  async sendControl(workerId: string, msg: ControlMessage): Promise<void> {
    const inbox = this.#inboxes.get(workerId) ?? [];
    inbox.push(JSON.stringify(msg));
    this.#inboxes.set(workerId, inbox);
  }

  async takeControl(workerId: string): Promise<ControlMessage[]> {
    const inbox = this.#inboxes.get(workerId) ?? [];
    this.#inboxes.delete(workerId);
    return inbox.map((json) => JSON.parse(json) as ControlMessage);
  }

  async setPaused(jobType: string, paused: boolean): Promise<void> {
    if (paused) this.#paused.add(jobType);
    else this.#paused.delete(jobType);
  }

  async pausedTypes(): Promise<string[]> {
    return [...this.#paused].sort();
  }
}
