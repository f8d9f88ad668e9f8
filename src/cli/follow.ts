import { styleText } from "node:util";
import type { Command } from "commander";
import { createLogUpdate } from "log-update";
import { ZeroGError } from "../errors.ts";
import { readSse, type SseEvent } from "./sse-reader.ts";
import { type SubmitFlags, submitJob } from "./submit.ts";

/**
 * Adds `--follow` to `zerog submit` (the command `registerSubmit` returns): after printing the
 * uuid, follow the job to its end; the process exits 1 when its result is not 2xx.
 */
export function addFollowOption(submit: Command): Command {
  return submit
    .option("-f, --follow", "draw the job's progress and print its events until it finishes; exit 1 unless 2xx")
    .action(async (type: string, params: string | undefined, flags: SubmitFlags & { follow?: boolean }) => {
      const uuid = await submitJob(type, params, flags);
      if (!flags.follow) return;
      const code = await followJob(flags.url, uuid, process.stdout);
      if (code < 200 || code > 299) process.exitCode = 1;
    });
}

/** Where `followJob` prints: a TTY gets a live bar, anything else plain lines. */
export interface FollowOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface FollowOptions {
  /** Sent as `Authorization: Bearer …`. @defaultValue process.env.ZEROG_API_TOKEN */
  token?: string;
  /** Reconnects (resuming with Last-Event-ID) after the stream drops before the result. @defaultValue 5 */
  maxReconnects?: number;
  signal?: AbortSignal;
}

/** Wait before reconnecting to a dropped stream: a server restarting takes a moment. */
const RECONNECT_DELAY_MS = 1000;
const BAR_WIDTH = 30;

/**
 * Follows a job through `GET /events/{uuid}` until its result: draws a progress bar and prints
 * its events, warnings and errors as they arrive. Resolves with the result code (the caller
 * exits non-zero when it is not 2xx); rejects with a ZeroGError when the server cannot be
 * reached or does not know the job.
 */
export async function followJob(
  url: string,
  uuid: string,
  out: FollowOutput,
  opts: FollowOptions = {},
): Promise<number> {
  const view = out.isTTY ? new BarView(out) : new PlainView(out);
  const token = opts.token ?? process.env.ZEROG_API_TOKEN;
  let lastId: string | undefined;
  let reconnects = 0;
  try {
    for (;;) {
      const res = await open(url, uuid, lastId, token, opts.signal);
      for await (const ev of readSse(res.body ?? emptyBody())) {
        lastId = ev.id ?? lastId;
        const result = view.show(ev);
        if (result !== null) return result;
      }
      // Ended without a result: the server went away (restart, shutdown). Resume where we were.
      if (reconnects++ >= (opts.maxReconnects ?? 5)) {
        throw new ZeroGError("ZEROG_BACKEND_DOWN", `the event stream of job ${uuid} kept closing before its result`);
      }
      await new Promise((r) => setTimeout(r, RECONNECT_DELAY_MS));
    }
  } finally {
    view.done();
  }
}

async function open(
  base: string,
  uuid: string,
  lastId: string | undefined,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const url = new URL(`events/${encodeURIComponent(uuid)}`, base.endsWith("/") ? base : `${base}/`);
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (lastId) headers["last-event-id"] = lastId;
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, ...(signal ? { signal } : {}) });
  } catch (err) {
    const why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new ZeroGError("ZEROG_BACKEND_DOWN", `cannot reach the ZeroG API at ${url.origin}: ${why}`);
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // Not JSON: the text itself.
    }
    throw new ZeroGError("ZEROG_BAD_REQUEST", `GET ${url.pathname}: ${res.status} ${message}`);
  }
  return res;
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

interface LogData {
  timeStamp?: string;
  msg?: string;
  errorCode?: number;
}

/** One line per log entry, as both views print it. */
function logLine(ev: SseEvent, color: boolean): string | null {
  const d = JSON.parse(ev.data) as LogData;
  const time = d.timeStamp ? `${d.timeStamp.slice(11, 19)} ` : "";
  const paint = (format: Parameters<typeof styleText>[0], s: string) => (color ? styleText(format, s) : s);
  switch (ev.event) {
    case "event":
      return `${time}${d.msg ?? ""}`;
    case "warning":
      return `${time}${paint("yellow", "warning")} ${d.msg ?? ""}`;
    case "job-error":
      return `${time}${paint("red", `error ${d.errorCode ?? ""}`)} ${d.msg ?? ""}`;
    default:
      return null;
  }
}

function resultOf(ev: SseEvent): number | null {
  if (ev.event === "gone") throw new ZeroGError("ZEROG_JOB_NOT_FOUND", "the job was deleted while being followed");
  if (ev.event !== "result") return null;
  return Number((JSON.parse(ev.data) as { result: number }).result);
}

function resultLine(code: number): string {
  return `result ${code} (${code >= 200 && code < 300 ? "success" : "failed"})`;
}

/** stdout is not a TTY: plain lines, a progress line each time the whole percentage changes. */
class PlainView {
  readonly #out: FollowOutput;
  #percent = -1;
  constructor(out: FollowOutput) {
    this.#out = out;
  }
  show(ev: SseEvent): number | null {
    if (ev.event === "progress") {
      const p = Math.floor((JSON.parse(ev.data) as { completeness: number }).completeness * 100);
      if (p !== this.#percent) this.#out.write(`progress ${p}%\n`);
      this.#percent = p;
      return null;
    }
    const line = logLine(ev, false);
    if (line !== null) this.#out.write(`${line}\n`);
    const result = resultOf(ev);
    if (result !== null) this.#out.write(`${resultLine(result)}\n`);
    return result;
  }
  done(): void {}
}

/** stdout is a TTY: log lines scroll above a bar redrawn in place (log-update). */
class BarView {
  readonly #log: ReturnType<typeof createLogUpdate>;
  #completeness = 0;
  constructor(out: FollowOutput) {
    this.#log = createLogUpdate(out as NodeJS.WriteStream);
    this.#draw();
  }
  show(ev: SseEvent): number | null {
    if (ev.event === "progress") {
      this.#completeness = (JSON.parse(ev.data) as { completeness: number }).completeness;
      this.#draw();
      return null;
    }
    const line = logLine(ev, true);
    if (line !== null) {
      this.#log.persist(line);
      this.#draw();
    }
    const result = resultOf(ev);
    if (result !== null) {
      this.#draw();
      this.#log.done();
      this.#log.persist(resultLine(result));
    }
    return result;
  }
  done(): void {
    this.#log.done();
  }
  #draw(): void {
    const filled = Math.round(this.#completeness * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    this.#log(`${bar} ${(this.#completeness * 100).toFixed(0).padStart(3)}%`);
  }
}
