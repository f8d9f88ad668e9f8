import type Database from "better-sqlite3";
import type { ControlMessage, FleetStore, WorkerRecord } from "../../contracts/fleet.ts";
import { purgeCutoff } from "../../contracts/fleet-expiry.ts";
import { ClosedError } from "../../errors.ts";
import type { SqliteConnection } from "./connection.ts";

interface RecordRow {
  record: string;
}

interface MessageRow {
  id: number;
  message: string;
}

/**
 * The fleet in the `zerog_fleet_workers` and `zerog_fleet_inbox` tables (src/backends/sqlite/schema.sql)
 * of the store's file, so every process on the file shares it. Writes go through the
 * connection's group commit; reads go straight to the file. Closes with the store it belongs to.
 */
export class SqliteFleetStore implements FleetStore {
  readonly #conn: SqliteConnection;
  readonly #announce: Database.Statement<[string, string, number]>;
  readonly #read: Database.Statement<[string], RecordRow>;
  readonly #live: Database.Statement<[number], RecordRow>;
  readonly #hasDead: Database.Statement<[number], { one: number }>;
  readonly #purgeInboxes: Database.Statement<[number]>;
  readonly #purgeWorkers: Database.Statement<[number]>;
  readonly #removeWorker: Database.Statement<[string]>;
  readonly #removeInbox: Database.Statement<[string]>;
  readonly #send: Database.Statement<[string, string]>;
  readonly #take: Database.Statement<[string], MessageRow>;
  readonly #pause: Database.Statement<[string]>;
  readonly #resume: Database.Statement<[string]>;
  readonly #paused: Database.Statement<[], { job_type: string }>;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
    const db = conn.db;
    this.#announce = db.prepare<[string, string, number]>(
      `INSERT INTO zerog_fleet_workers (worker_id, record, expires_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (worker_id) DO UPDATE SET record = excluded.record, expires_at_ms = excluded.expires_at_ms`,
    );
    this.#read = db.prepare<[string], RecordRow>("SELECT record FROM zerog_fleet_workers WHERE worker_id = ?");
    this.#live = db.prepare<[number], RecordRow>(
      "SELECT record FROM zerog_fleet_workers WHERE expires_at_ms > ? ORDER BY worker_id",
    );
    this.#hasDead = db.prepare<[number], { one: number }>(
      "SELECT 1 AS one FROM zerog_fleet_workers WHERE expires_at_ms < ? LIMIT 1",
    );
    this.#purgeInboxes = db.prepare<[number]>(
      `DELETE FROM zerog_fleet_inbox
       WHERE worker_id IN (SELECT worker_id FROM zerog_fleet_workers WHERE expires_at_ms < ?)`,
    );
    this.#purgeWorkers = db.prepare<[number]>("DELETE FROM zerog_fleet_workers WHERE expires_at_ms < ?");
    this.#removeWorker = db.prepare<[string]>("DELETE FROM zerog_fleet_workers WHERE worker_id = ?");
    this.#removeInbox = db.prepare<[string]>("DELETE FROM zerog_fleet_inbox WHERE worker_id = ?");
    this.#send = db.prepare<[string, string]>("INSERT INTO zerog_fleet_inbox (worker_id, message) VALUES (?, ?)");
    this.#take = db.prepare<[string], MessageRow>(
      "DELETE FROM zerog_fleet_inbox WHERE worker_id = ? RETURNING id, message",
    );
    this.#pause = db.prepare<[string]>("INSERT OR IGNORE INTO zerog_paused_types (job_type) VALUES (?)");
    this.#resume = db.prepare<[string]>("DELETE FROM zerog_paused_types WHERE job_type = ?");
    this.#paused = db.prepare<[], { job_type: string }>("SELECT job_type FROM zerog_paused_types ORDER BY job_type");
  }

  async announce(record: WorkerRecord): Promise<void> {
    return this.#writeStatement(() => {
      this.#announce.run(record.workerId, JSON.stringify(record), record.expiresAtMs);
    });
  }

  async listWorkers(nowMs: number): Promise<WorkerRecord[]> {
    this.#open();
    const cutoff = purgeCutoff(nowMs);
    // Listing is a read: take the file's write lock only when there is something to delete.
    if (this.#hasDead.get(cutoff)) {
      // Both deletes in one savepoint: a record never goes without its inbox. They re-check the
      // expiry inside the write lock, so a worker that announced again meanwhile is kept.
      await this.#conn.write(() => {
        this.#purgeInboxes.run(cutoff);
        this.#purgeWorkers.run(cutoff);
      });
    }
    return this.#live.all(nowMs).map((r) => JSON.parse(r.record) as WorkerRecord);
  }

  async getWorker(workerId: string): Promise<WorkerRecord | null> {
    this.#open();
    const row = this.#read.get(workerId);
    return row ? (JSON.parse(row.record) as WorkerRecord) : null;
  }

  async removeWorker(workerId: string): Promise<boolean> {
    this.#open();
    return this.#conn.write(() => {
      this.#removeInbox.run(workerId);
      return this.#removeWorker.run(workerId).changes > 0;
    });
  }

  async sendControl(workerId: string, msg: ControlMessage): Promise<void> {
    return this.#writeStatement(() => {
      this.#send.run(workerId, JSON.stringify(msg));
    });
  }

  /**
   * One DELETE … RETURNING inside a write transaction, which holds the file's write lock: two
   * takers (threads or processes) run one after the other, and the second finds the rows gone.
   */
  async takeControl(workerId: string): Promise<ControlMessage[]> {
    const rows = await this.#writeStatement(() => this.#take.all(workerId));
    // RETURNING gives rows in no promised order; ids are send order.
    return rows.sort((a, b) => a.id - b.id).map((r) => JSON.parse(r.message) as ControlMessage);
  }

  async setPaused(jobType: string, paused: boolean): Promise<void> {
    await this.#writeStatement(() => (paused ? this.#pause : this.#resume).run(jobType));
  }

  /** A read, no lock: every worker runs it once per control poll. */
  async pausedTypes(): Promise<string[]> {
    this.#open();
    return this.#paused.all().map((r) => r.job_type);
  }

  /** A write of one statement: SQLite undoes a failing one itself, so no savepoint is needed. */
  #writeStatement<T>(op: () => T): Promise<T> {
    this.#open();
    return this.#conn.writeStatement(op);
  }

  #open(): void {
    if (this.#conn.closed) throw new ClosedError("sqlite fleet");
  }
}
