/**
 * A separate process working on a shared SQLite file, for test/unit/sqlite-multiprocess.test.ts.
 * Run with `node --import tsx` through child_process.fork; it waits for "go" so that every
 * process starts at once, then sends back one ChildResult.
 *   cas <path> <uuid> <n>   n read → replace increments of the document's tickcount
 *   reserve <path> <queue>  reserve and delete until the queue stays empty for 300 ms
 *   put <path> <queue>      put one entry
 */
import { createSqliteDatastore } from "../../src/backends/sqlite/sqlite-datastore.ts";
import { createSqliteQueue } from "../../src/backends/sqlite/sqlite-queue.ts";
import { isZeroGError } from "../../src/errors.ts";

export type ChildResult =
  | { mode: "cas"; conflicts: number }
  | { mode: "reserve"; ids: string[] }
  | { mode: "put"; id: string };

async function casIncrements(path: string, uuid: string, n: number): Promise<ChildResult> {
  const store = createSqliteDatastore({ path });
  let conflicts = 0;
  for (let i = 0; i < n; i++) {
    for (;;) {
      const cur = await store.read(uuid);
      if (!cur) throw new Error(`document ${uuid} vanished`);
      try {
        await store.replace({ ...cur.value, tickcount: cur.value.tickcount + 1 }, cur.cas);
        break;
      } catch (err) {
        if (!isZeroGError(err, "ZEROG_CAS_MISMATCH")) throw err;
        conflicts++;
      }
    }
  }
  await store.close();
  return { mode: "cas", conflicts };
}

async function reserveAll(path: string, queueName: string): Promise<ChildResult> {
  // A short poll: the entries were put by another process, so only polling finds them.
  const queue = createSqliteQueue({ path, pollMs: 10 });
  const ids: string[] = [];
  // Several slots per process, as a worker has, so group commit and the write lock both matter.
  const slot = async (): Promise<void> => {
    for (;;) {
      const r = await queue.reserve([queueName], { timeoutMs: 300 });
      if (!r) return;
      ids.push(r.id);
      await r.delete();
    }
  };
  await Promise.all(Array.from({ length: 8 }, slot));
  await queue.close();
  return { mode: "reserve", ids };
}

async function putOne(path: string, queueName: string): Promise<ChildResult> {
  const queue = createSqliteQueue({ path });
  const id = await queue.put(queueName, "from another process");
  await queue.close();
  return { mode: "put", id };
}

const [mode, path = "", a = "", b = "0"] = process.argv.slice(2);
process.once("message", () => {
  const work =
    mode === "cas" ? casIncrements(path, a, Number(b)) : mode === "put" ? putOne(path, a) : reserveAll(path, a);
  work.then(
    (result) => process.send?.(result, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
process.send?.("ready");
