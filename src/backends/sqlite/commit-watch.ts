import { type FSWatcher, watch } from "node:fs";
import type Database from "better-sqlite3";

/**
 * Re-checks (ms after the write) when a write to the WAL showed no new commit yet: SQLite writes
 * a transaction's frames first and publishes them in the WAL index just after.
 */
const RECHECKS_MS = [1, 4];

/**
 * Tells this process, within about a millisecond, that another process committed to the
 * database: every commit writes the `-wal` file, which the OS reports to a file watch
 * (inotify on Linux), and `PRAGMA data_version` says whether a commit by another connection
 * became visible since the last look (this connection's own commits leave it unchanged).
 * Where the file cannot be watched (no WAL file, a file system without notifications) it stays
 * silent, and the queue's poll finds the entries as before.
 */
export class CommitWatch {
  readonly #db: Database.Database;
  readonly #onCommit: () => void;
  #watcher: FSWatcher | null = null;
  #version = 0;
  #checkQueued = false;
  #recheck: NodeJS.Timeout | undefined;

  constructor(db: Database.Database, onCommit: () => void) {
    this.#db = db;
    this.#onCommit = onCommit;
  }

  get watching(): boolean {
    return this.#watcher !== null;
  }

  start(): void {
    if (this.#watcher || this.#db.memory || !this.#db.open) return;
    this.#version = this.#dataVersion();
    try {
      this.#watcher = watch(`${this.#db.name}-wal`, { persistent: false }, () => this.#written());
    } catch {
      return; // see the class comment: the poll covers it
    }
    this.#watcher.on("error", () => this.stop());
  }

  stop(): void {
    this.#watcher?.close();
    this.#watcher = null;
    clearTimeout(this.#recheck);
    this.#recheck = undefined;
  }

  /** Many writes in one turn (a transaction's frames, several commits) make one check. */
  #written(): void {
    if (this.#checkQueued) return;
    this.#checkQueued = true;
    setImmediate(() => {
      this.#checkQueued = false;
      this.#check(0);
    });
  }

  #check(attempt: number): void {
    if (!this.#watcher || !this.#db.open) return;
    const version = this.#dataVersion();
    if (version !== this.#version) {
      this.#version = version;
      this.#onCommit();
      return;
    }
    const delay = RECHECKS_MS[attempt];
    if (delay === undefined || this.#recheck) return;
    this.#recheck = setTimeout(() => {
      this.#recheck = undefined;
      this.#check(attempt + 1);
    }, delay);
    this.#recheck.unref();
  }

  #dataVersion(): number {
    return this.#db.pragma("data_version", { simple: true }) as number;
  }
}
