import { BackendDownError } from "../../errors.ts";
import type { Command } from "./connection.ts";
import { BACKEND_KIND, BeanstalkReplyError, unexpectedReply } from "./errors.ts";
import type { Reply } from "./reply-reader.ts";
import {
  type JobStats,
  parseJobStats,
  parseServerStats,
  parseTubeList,
  parseTubeStats,
  type ServerStats,
  type TubeStats,
} from "./stats.ts";
import { tubeNameProblem } from "./tube-name.ts";

/**
 * One builder per protocol command (protocol.txt): the bytes to send and the replies it
 * expects. Replies a command may legitimately get (NOT_FOUND, TIMED_OUT, …) become return
 * values; any other reply throws through `unexpectedReply`, the one mapping to ZeroG errors.
 */

/** A job as `reserve` or `peek` hands it out. */
export interface Job {
  id: string;
  body: Buffer;
}

export type ReserveResult =
  | { kind: "reserved"; job: Job }
  /** `reserve-with-timeout` found no job in time. */
  | { kind: "timed-out" }
  /** A job this connection holds is within a second of its TTR (the server's safety margin). */
  | { kind: "deadline-soon" };

/** Put parameters as the protocol takes them: whole numbers. */
export interface PutParams {
  /** 0 (most urgent) to 2^32 − 1. */
  priority: number;
  delaySeconds: number;
  /** The server raises 0 to 1. */
  ttrSeconds: number;
}

export const MAX_UINT32 = 2 ** 32 - 1;
const CRLF = Buffer.from("\r\n");
/** What a decoder returns for a reply its command does not expect. */
const NO = Symbol("unexpected reply");

function command<T>(name: string, decode: (reply: Reply) => T | typeof NO, timeoutMs?: number): Command<T> {
  return {
    name,
    bytes: `${name}\r\n`,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    decode: (reply) => {
      const value = decode(reply);
      if (value === NO) throw unexpectedReply(name, reply.line);
      return value;
    },
  };
}

/** `word` alone on the line. */
const is = (reply: Reply, word: string): boolean => reply.words.length === 1 && reply.words[0] === word;
/** The argument of `word <arg>`, or undefined. */
const arg = (reply: Reply, word: string): string | undefined =>
  reply.words.length === 2 && reply.words[0] === word ? reply.words[1] : undefined;
/** The count of `word <n>`, or NO. */
const count = (reply: Reply, word: string): number | typeof NO => {
  const a = arg(reply, word);
  return a !== undefined && /^\d+$/.test(a) ? Number(a) : NO;
};
/** `true` for `yes`, `false` for NOT_FOUND. */
const found = (reply: Reply, yes: string): boolean | typeof NO =>
  is(reply, yes) ? true : is(reply, "NOT_FOUND") ? false : NO;
/** The body of an `OK <bytes>` reply, parsed; null for NOT_FOUND. */
const okBody = <T>(reply: Reply, parse: (body: Buffer) => T): T | null | typeof NO =>
  reply.words[0] === "OK" && reply.body ? parse(reply.body) : is(reply, "NOT_FOUND") ? null : NO;

/** A whole number the protocol accepts in that position; anything else would earn BAD_FORMAT. */
export function checkUint(name: string, value: number, max = MAX_UINT32): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be a whole number from 0 to ${max}, not ${value}`);
  }
}

function checkJobId(id: string): void {
  if (!/^\d{1,20}$/.test(id)) throw new RangeError(`'${id}' is not a beanstalkd job id`);
}

/** A name the server accepts; anything else would earn BAD_FORMAT (or, with a "\r\n", inject a command). */
function checkTube(tube: string): void {
  const problem = tubeNameProblem(tube);
  if (problem !== null) throw new RangeError(`'${tube}' is not a valid tube name: ${problem}`);
}

export function put(body: Buffer, p: PutParams): Command<string> {
  checkUint("priority", p.priority);
  checkUint("delaySeconds", p.delaySeconds);
  checkUint("ttrSeconds", p.ttrSeconds);
  const name = `put ${p.priority} ${p.delaySeconds} ${p.ttrSeconds} ${body.length}`;
  return {
    name,
    // The byte length, never the string length: bodies may hold any bytes, "\r\n" included.
    bytes: Buffer.concat([Buffer.from(`${name}\r\n`), body, CRLF]),
    decode: (reply) => {
      const id = arg(reply, "INSERTED");
      if (id !== undefined) return id;
      // The job exists, but buried: the server ran out of memory growing its ready queue.
      if (arg(reply, "BURIED") !== undefined) {
        throw new BackendDownError(BACKEND_KIND, new BeanstalkReplyError(name, reply.line));
      }
      throw unexpectedReply(name, reply.line);
    },
  };
}

export function use(tube: string): Command<string> {
  checkTube(tube);
  return command(`use ${tube}`, (r) => arg(r, "USING") ?? NO);
}

/** Resolves with how many tubes the connection now watches. */
export function watch(tube: string): Command<number> {
  checkTube(tube);
  return command(`watch ${tube}`, (r) => count(r, "WATCHING"));
}

/** Resolves with how many tubes the connection now watches; NOT_IGNORED (its last tube) throws. */
export function ignore(tube: string): Command<number> {
  checkTube(tube);
  return command(`ignore ${tube}`, (r) => count(r, "WATCHING"));
}

function reserveReply(reply: Reply): ReserveResult | typeof NO {
  if (reply.words[0] === "RESERVED" && reply.body) {
    return { kind: "reserved", job: { id: reply.words[1] ?? "", body: reply.body } };
  }
  if (is(reply, "TIMED_OUT")) return { kind: "timed-out" };
  if (is(reply, "DEADLINE_SOON")) return { kind: "deadline-soon" };
  return NO;
}

/** Waits without limit, so no reply deadline either (the caller must be able to close the connection). */
export const reserve = (): Command<ReserveResult> => command("reserve", reserveReply, Number.POSITIVE_INFINITY);

/** Its reply deadline is the timeout plus `marginMs`: the server answers TIMED_OUT on its own clock, in whole seconds. */
export function reserveWithTimeout(seconds: number, marginMs: number): Command<ReserveResult> {
  checkUint("seconds", seconds);
  return command(`reserve-with-timeout ${seconds}`, reserveReply, seconds * 1000 + marginMs);
}

/** false: no such job, or reserved by another connection. */
export function deleteJob(id: string): Command<boolean> {
  checkJobId(id);
  return command(`delete ${id}`, (r) => found(r, "DELETED"));
}

/** `buried`: the server ran out of memory growing its ready queue and buried the job instead. */
export function release(
  id: string,
  priority: number,
  delaySeconds: number,
): Command<"released" | "buried" | "not-found"> {
  checkJobId(id);
  checkUint("priority", priority);
  checkUint("delaySeconds", delaySeconds);
  return command(`release ${id} ${priority} ${delaySeconds}`, (r) =>
    is(r, "RELEASED") ? "released" : is(r, "BURIED") ? "buried" : is(r, "NOT_FOUND") ? "not-found" : NO,
  );
}

/** false: not reserved by this connection. */
export function touch(id: string): Command<boolean> {
  checkJobId(id);
  return command(`touch ${id}`, (r) => found(r, "TOUCHED"));
}

/** false: not reserved by this connection. */
export function bury(id: string, priority: number): Command<boolean> {
  checkJobId(id);
  checkUint("priority", priority);
  return command(`bury ${id} ${priority}`, (r) => found(r, "BURIED"));
}

/** Kicks up to `bound` jobs of the used tube: buried ones if it has any, else delayed ones. */
export function kick(bound: number): Command<number> {
  checkUint("bound", bound);
  return command(`kick ${bound}`, (r) => count(r, "KICKED"));
}

/** false: no such job, or neither buried nor delayed. */
export function kickJob(id: string): Command<boolean> {
  checkJobId(id);
  return command(`kick-job ${id}`, (r) => found(r, "KICKED"));
}

export function peek(id: string): Command<Job | null> {
  checkJobId(id);
  return command(`peek ${id}`, (r) =>
    r.words[0] === "FOUND" && r.body ? { id: r.words[1] ?? id, body: r.body } : is(r, "NOT_FOUND") ? null : NO,
  );
}

export function statsJob(id: string): Command<JobStats | null> {
  checkJobId(id);
  return command(`stats-job ${id}`, (r) => okBody(r, parseJobStats));
}

/** null: the tube does not exist (the server drops tubes that are empty and unused). */
export function statsTube(tube: string): Command<TubeStats | null> {
  checkTube(tube);
  return command(`stats-tube ${tube}`, (r) => okBody(r, parseTubeStats));
}

/** The server's own stats (its id changes when it restarts). */
export const stats = (): Command<ServerStats> =>
  command("stats", (r) => (r.words[0] === "OK" && r.body ? parseServerStats(r.body) : NO));

export const listTubes = (): Command<string[]> =>
  command("list-tubes", (r) => (r.words[0] === "OK" && r.body ? parseTubeList(r.body) : NO));

export const listTubesWatched = (): Command<string[]> =>
  command("list-tubes-watched", (r) => (r.words[0] === "OK" && r.body ? parseTubeList(r.body) : NO));

export const listTubeUsed = (): Command<string> => command("list-tube-used", (r) => arg(r, "USING") ?? NO);
