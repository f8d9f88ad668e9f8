import { styleText } from "node:util";
import type { Command } from "commander";
import { createLogUpdate } from "log-update";
import { ZeroGError } from "../errors.ts";
import { nextAttemptText, type ProgressLabel, progressLabel } from "./outcome-label.ts";
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

interface ProgressData {
  completeness: number;
  state?: string;
  nextAttemptAt?: string | null;
}

interface ResultData {
  result: number;
  completeness: number;
  completenessAtEnd?: number | null;
}

function resultOf(ev: SseEvent): ResultData | null {
  if (ev.event === "gone") throw new ZeroGError("ZEROG_JOB_NOT_FOUND", "the job was deleted while being followed");
  if (ev.event !== "result") return null;
  const d = JSON.parse(ev.data) as ResultData;
  return { ...d, result: Number(d.result) };
}

/** The finished job's label: a failed or killed one at the completeness it had reached. */
function resultLabel(r: ResultData): ProgressLabel {
  return progressLabel({
    completeness: r.completeness,
    resultCode: r.result,
    completenessAtEnd: r.completenessAtEnd ?? null,
  });
}

function resultLine(r: ResultData): string {
  const label = resultLabel(r);
  return `result ${r.result} (${label.tone === "success" ? "success" : label.text})`;
}

/** A failed run now waits for its retry: say when it runs. */
function retryLine(p: ProgressData): string | null {
  return p.state === "delayed" && p.nextAttemptAt ? `waiting: next attempt ${nextAttemptText(p.nextAttemptAt)}` : null;
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
      const data = JSON.parse(ev.data) as ProgressData;
      const retry = retryLine(data);
      if (retry) this.#out.write(`${retry}\n`);
      // A finished job's completeness reads 1 whatever its result: the result line says how far it got.
      if (data.state === "finished") return null;
      const p = Math.floor(data.completeness * 100);
      if (p !== this.#percent) this.#out.write(`progress ${p}%\n`);
      this.#percent = p;
      return null;
    }
    const line = logLine(ev, false);
    if (line !== null) this.#out.write(`${line}\n`);
    const result = resultOf(ev);
    if (result === null) return null;
    if (resultLabel(result).tone === "success" && this.#percent !== 100) this.#out.write("progress 100%\n");
    this.#out.write(`${resultLine(result)}\n`);
    return result.result;
  }
  done(): void {}
}

/** stdout is a TTY: log lines scroll above a bar redrawn in place (log-update). */
class BarView {
  readonly #log: ReturnType<typeof createLogUpdate>;
  #completeness = 0;
  #label: ProgressLabel | null = null;
  constructor(out: FollowOutput) {
    this.#log = createLogUpdate(out as NodeJS.WriteStream);
    this.#draw();
  }
  show(ev: SseEvent): number | null {
    if (ev.event === "progress") {
      const data = JSON.parse(ev.data) as ProgressData;
      const retry = retryLine(data);
      if (retry) this.#log.persist(retry);
      // A finished job's completeness reads 1 whatever its result: the result redraws the bar.
      if (data.state !== "finished") this.#completeness = data.completeness;
      this.#draw();
      return null;
    }
    const line = logLine(ev, true);
    if (line !== null) {
      this.#log.persist(line);
      this.#draw();
    }
    const result = resultOf(ev);
    if (result === null) return null;
    this.#label = resultLabel(result);
    this.#draw();
    this.#log.done();
    this.#log.persist(resultLine(result));
    return result.result;
  }
  done(): void {
    this.#log.done();
  }
  #draw(): void {
    const fill = this.#label?.fill ?? this.#completeness;
    const filled = Math.round(fill * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const tone = this.#label?.tone;
    const text = this.#label?.text ?? `${(fill * 100).toFixed(0).padStart(3)}%`;
    const line = `${bar} ${text}`;
    this.#log(tone === "failed" ? styleText("red", line) : tone === "killed" ? styleText("gray", line) : line);
  }
}
