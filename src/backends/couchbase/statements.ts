import { readFileSync } from "node:fs";
import type { DeleteFinishedQuery, ListJobsQuery } from "../../contracts/datastore.ts";
import type { FinishedPosition } from "../../contracts/finished-order.ts";

const LIST_DEFAULT_LIMIT = 50;
/** Sorts after every ISO-8601 time (SQL++ compares strings by code point), so "no cursor" is a cursor past the end. */
const NO_CURSOR = { createdAt: "\uffff", uuid: "" };
/**
 * A job's status (src/job/job-status.ts) in SQL++: exactly the leading key of the indexes
 * zerog_jobs_by_status and zerog_jobs_by_type_status in indexes.n1ql, with the alias `d.` (the
 * planner matches an index key to the same expression). A unit test checks they agree.
 */
export const STATUS_N1QL =
  '(CASE WHEN d.`state` != "finished" THEN d.`state` WHEN d.`resultCode` = 410 THEN "killed" WHEN d.`resultCode` BETWEEN 200 AND 299 THEN "finished" ELSE "failed" END)';
const KEYSPACE_PLACEHOLDER = "{{keyspace}}";

/** One index of indexes.n1ql: its name and its CREATE statement for one keyspace. */
export interface IndexStatement {
  name: string;
  statement: string;
}

/**
 * The CREATE INDEX statements of `indexes.n1ql` for `keyspace` (already quoted, see `keyspaceOf`),
 * in file order. Read when called: the file sits beside this module in src/ and in dist/.
 */
export function indexStatements(keyspace: string, text = readIndexFile()): IndexStatement[] {
  const body = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n");
  return body
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const name = /^CREATE INDEX IF NOT EXISTS `([^`]+)`/i.exec(s)?.[1];
      if (name === undefined) throw new Error(`indexes.n1ql: not a CREATE INDEX IF NOT EXISTS statement: ${s}`);
      return { name, statement: s.replaceAll(KEYSPACE_PLACEHOLDER, keyspace) };
    });
}

function readIndexFile(): string {
  return readFileSync(new URL("./indexes.n1ql", import.meta.url), "utf8");
}

/** A listing's statement and its named parameters (SQL++ adds the `$`). */
export interface ListStatement {
  statement: string;
  parameters: Record<string, string | number>;
}

/**
 * The listing for `query` over `keyspace`. Only the keyspace (validated names in backticks) is
 * spliced into the text; every value travels as a named parameter. One statement shape per filter
 * combination, so each matches an index of indexes.n1ql (a `$x IS NULL OR …` predicate would not).
 */
export function listStatement(keyspace: string, query: ListJobsQuery): ListStatement {
  // SQL++ has no row comparison: `createdAt <= $at` is the index range, the OR filters the ties.
  const where = ["d.`createdAt` <= $beforeAt", "(d.`createdAt` < $beforeAt OR d.`uuid` < $beforeUuid)"];
  const before = query.before ?? NO_CURSOR;
  const parameters: Record<string, string | number> = {
    beforeAt: before.createdAt,
    beforeUuid: before.uuid,
    limit: query.limit ?? LIST_DEFAULT_LIMIT,
  };
  if (query.state !== undefined) {
    where.unshift(`${STATUS_N1QL} = $state`);
    parameters.state = query.state;
  }
  if (query.jobType !== undefined) {
    where.unshift("d.`jobType` = $jobType");
    parameters.jobType = query.jobType;
  }
  const order = "ORDER BY d.`createdAt` DESC, d.`uuid` DESC";
  const statement = `SELECT RAW d FROM ${keyspace} AS d WHERE ${where.join(" AND ")} ${order} LIMIT $limit`;
  return { statement, parameters };
}

/**
 * Retention's two statements over `keyspace`, on the index zerog_jobs_by_finished of indexes.n1ql
 * (its partial condition `state = "finished"` and its leading keys repeated): `oldestKept`, the
 * `keepNewest`-th newest job of a type and status; `picked`, up to `limit` uuids of jobs before a
 * position, newest of them first (the index's own order). Values travel as named parameters.
 */
export function finishedStatements(
  keyspace: string,
  query: Pick<DeleteFinishedQuery, "jobType" | "status">,
): {
  oldestKept: (keepNewest: number) => ListStatement;
  picked: (bound: FinishedPosition, limit: number) => ListStatement;
} {
  const rows = `FROM ${keyspace} AS d WHERE d.\`state\` = "finished" AND d.\`jobType\` = $jobType AND ${STATUS_N1QL} = $status`;
  const order = "ORDER BY d.`finishedAt` DESC, d.`uuid` DESC";
  const base = { jobType: query.jobType, status: query.status };
  return {
    oldestKept: (keepNewest) => ({
      statement: `SELECT d.\`finishedAt\`, d.\`uuid\` ${rows} AND d.\`finishedAt\` IS NOT NULL ${order} OFFSET $offset LIMIT 1`,
      parameters: { ...base, offset: keepNewest - 1 },
    }),
    // As the listing: `finishedAt <= $beforeAt` is the index range, the OR filters the ties.
    picked: (bound, limit) => ({
      statement: `SELECT RAW d.\`uuid\` ${rows} AND d.\`finishedAt\` <= $beforeAt AND (d.\`finishedAt\` < $beforeAt OR d.\`uuid\` < $beforeUuid) ${order} LIMIT $limit`,
      parameters: { ...base, beforeAt: bound.finishedAt, beforeUuid: bound.uuid, limit },
    }),
  };
}
