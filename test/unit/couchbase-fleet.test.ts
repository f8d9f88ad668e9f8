import { setImmediate as tick } from "node:timers/promises";
import * as sdk from "couchbase";
import { describe, expect, it } from "vitest";
import { COUCHBASE_DEFAULTS } from "../../src/backends/couchbase/couchbase-datastore.ts";
import { type CouchbaseFleetPort, CouchbaseFleetStore } from "../../src/backends/couchbase/couchbase-fleet.ts";
import { describeFleet } from "../contract/fleet.suite.ts";

/**
 * The Couchbase fleet's own logic (CAS loops on the inbox, the CAS-checked purge, the SQL++ it
 * sends) over a stand-in for one collection: key-value calls with Couchbase's CAS rules and the
 * SDK's real error classes, each answering on a later turn of the event loop so concurrent callers
 * interleave; and the two fleet queries, evaluated by reading their text. This is not a Couchbase
 * server: test/contract/couchbase.test.ts runs the same suite against one (COUCHBASE_URL).
 */
class SimulatedCollection implements CouchbaseFleetPort {
  readonly docs = new Map<string, { json: string; cas: number }>();
  readonly statements: string[] = [];
  #cas = 0;

  async get(key: string) {
    await tick();
    const d = this.docs.get(key);
    if (!d) throw new sdk.DocumentNotFoundError();
    return { content: JSON.parse(d.json) as unknown, cas: { toString: () => String(d.cas) } };
  }
  async insert(key: string, value: object) {
    await tick();
    if (this.docs.has(key)) throw new sdk.DocumentExistsError();
    this.#put(key, value);
  }
  async replace(key: string, value: object, cas: string) {
    await tick();
    this.#check(key, cas);
    this.#put(key, value);
  }
  async upsert(key: string, value: object) {
    await tick();
    this.#put(key, value);
  }
  async remove(key: string, cas: string | null) {
    await tick();
    this.#check(key, cas);
    this.docs.delete(key);
  }
  async query(statement: string, parameters: Record<string, string | number>) {
    await tick();
    this.statements.push(statement);
    const field = /^SELECT RAW d\.`(\w+)`/.exec(statement)?.[1];
    const op = /d\.`expiresAtMs` ([<>]) \$at/.exec(statement)?.[1];
    const type = /d\.`type` = "([\w-]+)"/.exec(statement)?.[1];
    if (!field || !op || !type || !statement.endsWith("ORDER BY d.`workerId`"))
      throw new Error(`unexpected statement: ${statement}`);
    const at = Number(parameters.at);
    return [...this.docs.values()]
      .map((d) => JSON.parse(d.json) as Record<string, unknown> & { expiresAtMs: number; workerId: string })
      .filter((d) => d.type === type && (op === "<" ? d.expiresAtMs < at : d.expiresAtMs > at))
      .sort((a, b) => (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0))
      .map((d) => d[field]);
  }

  #check(key: string, cas: string | null): void {
    const d = this.docs.get(key);
    if (!d) throw new sdk.DocumentNotFoundError();
    if (cas !== null && String(d.cas) !== cas) throw new sdk.CasMismatchError();
  }
  #put(key: string, value: object): void {
    this.docs.set(key, { json: JSON.stringify(value), cas: ++this.#cas });
  }
}

const fleetOn = (port: SimulatedCollection) =>
  new CouchbaseFleetStore(port, {
    keyspace: "`b`.`s`.`c`",
    policy: { errors: sdk, timeoutRetries: COUCHBASE_DEFAULTS.timeoutRetries, retryBackoffMs: 1 },
  });

describe("CouchbaseFleetStore (simulated collection)", () => {
  describeFleet({
    name: "couchbase (simulated collection)",
    create: () => {
      const port = new SimulatedCollection();
      const open = () => Promise.resolve({ fleet: fleetOn(port), close: async () => undefined, openPeer: open });
      return { fleet: fleetOn(port), close: async () => undefined, openPeer: open };
    },
  });

  it("keeps worker documents apart from jobs: typed, keyed by id, with the record inside", async () => {
    const port = new SimulatedCollection();
    const fleet = fleetOn(port);
    await fleet.sendControl("w1", { kind: "drain" });
    await fleet.listWorkers(0);
    expect([...port.docs.keys()]).toEqual(["zerog-fleet-inbox::w1"]);
    expect(JSON.parse(port.docs.get("zerog-fleet-inbox::w1")?.json ?? "")).toEqual({
      type: "zerog-fleet-inbox",
      workerId: "w1",
      messages: [{ kind: "drain" }],
    });
    // Only the keyspace is spliced into the statement; the time travels as a parameter.
    expect(port.statements[0]).toBe(
      'SELECT RAW d.`workerId` FROM `b`.`s`.`c` AS d WHERE d.`type` = "zerog-fleet-worker" AND d.`expiresAtMs` < $at ORDER BY d.`workerId`',
    );
  });

  it("loses no message when many senders write one inbox at once", async () => {
    const fleet = fleetOn(new SimulatedCollection());
    const uuids = Array.from({ length: 20 }, (_, i) => `job-${String(i).padStart(2, "0")}`);
    await Promise.all(uuids.map((uuid) => fleet.sendControl("w1", { kind: "killJob", uuid })));
    const taken = (await fleet.takeControl("w1")).map((m) => (m.kind === "killJob" ? m.uuid : m.kind));
    expect(taken.sort()).toEqual(uuids);
  });
});
