interface Member<R> {
  resolve: (row: R | undefined) => void;
  reject: (err: unknown) => void;
}

/** A row a grouped lease hands out: sorted most urgent first (RETURNING has no order). */
interface Ranked {
  id: number;
  priority: number;
}

/**
 * Groups the reservers of one queue (or queue list) that ask in the same turn of the event loop,
 * so that one statement leases as many entries as the group has members — one round trip and
 * one commit instead of one each — and hands them out most urgent first.
 */
export class TakeGroups<R extends Ranked> {
  readonly #open = new Map<string, Member<R>[]>();
  readonly #maxMembers: number;

  /** `maxMembers`: a full group is closed to newcomers, who open the next one. @defaultValue unbounded */
  constructor(opts: { maxMembers?: number } = {}) {
    this.#maxMembers = opts.maxMembers ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Joins the open group for `key`, or opens one: its first member calls `lease`, which must call
   * `close()` when the statement is about to run (fixing the group's size; later reservers then
   * start a new group) and resolve with up to that many rows.
   */
  join(key: string, lease: (close: () => number) => Promise<R[]>): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      const open = this.#open.get(key);
      if (open && open.length < this.#maxMembers) {
        open.push({ resolve, reject });
        return;
      }
      const members: Member<R>[] = [{ resolve, reject }];
      this.#open.set(key, members);
      const close = (): number => {
        if (this.#open.get(key) === members) this.#open.delete(key);
        return members.length;
      };
      lease(close).then(
        (rows) => {
          rows.sort((a, b) => a.priority - b.priority || a.id - b.id);
          for (const [i, m] of members.entries()) m.resolve(rows[i]);
        },
        (err: unknown) => {
          for (const m of members) m.reject(err);
        },
      );
    });
  }
}
