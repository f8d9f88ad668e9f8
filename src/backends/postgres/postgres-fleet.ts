import type { ControlMessage, FleetStore, WorkerRecord } from "../../contracts/fleet.ts";
import { purgeCutoff } from "../../contracts/fleet-expiry.ts";
import type { PgPool } from "./pool.ts";
import { sqlFile, sqlText } from "./sql.ts";

const SQL = {
  announce: sqlFile("fleet-announce"),
  list: sqlFile("fleet-list"),
  read: sqlText("fleet_read", "SELECT record FROM zerog_fleet_workers WHERE worker_id = $1"),
  remove: sqlFile("fleet-remove"),
  send: sqlText("fleet_send", "INSERT INTO zerog_fleet_inbox (worker_id, message) VALUES ($1, $2)"),
  take: sqlFile("fleet-take"),
  pause: sqlText("fleet_pause", "INSERT INTO zerog_paused_types (job_type) VALUES ($1) ON CONFLICT DO NOTHING"),
  resume: sqlText("fleet_resume", "DELETE FROM zerog_paused_types WHERE job_type = $1"),
  paused: sqlText("fleet_paused", "SELECT job_type FROM zerog_paused_types ORDER BY job_type"),
} as const;

/**
 * The fleet in the `zerog_fleet_workers` and `zerog_fleet_inbox` tables of the backend's schema
 * (src/backends/postgres/migrations/002-fleet.sql), and the paused job types in `zerog_paused_types`
 * (004-paused-types.sql), shared by every process on the schema. Uses the
 * backend's pool without holding it open, so it ends with the backend; connection failures come
 * back as BackendDownError (PgPool.run).
 */
export class PostgresFleetStore implements FleetStore {
  readonly #db: PgPool;

  constructor(db: PgPool) {
    this.#db = db;
  }

  async announce(record: WorkerRecord): Promise<void> {
    // The column is bigint, which refuses a fractional time. Rounded up, `expires_at_ms > now` holds
    // for a whole-ms now (Date.now()) exactly when `expiresAtMs > now` does.
    const expiresAtMs = Math.ceil(record.expiresAtMs);
    await this.#db.run(SQL.announce, [record.workerId, JSON.stringify(record), expiresAtMs]);
  }

  async listWorkers(nowMs: number): Promise<WorkerRecord[]> {
    // Whole ms for the bigint parameters, rounded so that comparing them with a whole-ms record time
    // answers as comparing the exact times would.
    const times = [Math.floor(nowMs), Math.ceil(purgeCutoff(nowMs))];
    const rows = await this.#db.run<{ record: WorkerRecord }>(SQL.list, times);
    return rows.map((r) => r.record);
  }

  async getWorker(workerId: string): Promise<WorkerRecord | null> {
    const [row] = await this.#db.run<{ record: WorkerRecord }>(SQL.read, [workerId]);
    return row?.record ?? null;
  }

  async removeWorker(workerId: string): Promise<boolean> {
    const [row] = await this.#db.run<{ removed: boolean }>(SQL.remove, [workerId]);
    return row?.removed === true;
  }

  async sendControl(workerId: string, msg: ControlMessage): Promise<void> {
    await this.#db.run(SQL.send, [workerId, JSON.stringify(msg)]);
  }

  async takeControl(workerId: string): Promise<ControlMessage[]> {
    const rows = await this.#db.run<{ message: ControlMessage }>(SQL.take, [workerId]);
    return rows.map((r) => r.message);
  }

  async setPaused(jobType: string, paused: boolean): Promise<void> {
    await this.#db.run(paused ? SQL.pause : SQL.resume, [jobType]);
  }

  async pausedTypes(): Promise<string[]> {
    const rows = await this.#db.run<{ job_type: string }>(SQL.paused, []);
    return rows.map((r) => r.job_type);
  }
}
