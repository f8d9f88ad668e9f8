import { BackendDownError, ZeroGError } from "../../errors.ts";

/** The kind every connection failure is reported as: `BackendDownError("beanstalkd", …)`. */
export const BACKEND_KIND = "beanstalkd";

/** Every error word the protocol defines (protocol.txt). */
export type ErrorReply =
  | "NOT_FOUND"
  | "OUT_OF_MEMORY"
  | "INTERNAL_ERROR"
  | "BAD_FORMAT"
  | "UNKNOWN_COMMAND"
  | "EXPECTED_CRLF"
  | "JOB_TOO_BIG"
  | "DRAINING"
  | "DEADLINE_SOON"
  | "TIMED_OUT"
  | "NOT_IGNORED";

/**
 * What each error word means, and what it becomes when a command does not expect it:
 * - `down`: the server cannot serve now → BackendDownError (HTTP 503);
 * - `too-big`: the body exceeds the server's `-z` limit → ZEROG_BODY_TOO_LARGE (413);
 * - `bug`: this client sent something wrong, or the server failed → ZEROG_INTERNAL (500);
 * - `result`: an answer some commands expect (the client turns it into a return value there);
 *   anywhere else it is a bug.
 * `breaksFraming`: after it, the server may read the rest of our bytes as commands, so the
 * connection is closed.
 */
export const ERROR_REPLIES: Readonly<
  Record<ErrorReply, { meaning: string; kind: "down" | "too-big" | "bug" | "result"; breaksFraming?: true }>
> = {
  NOT_FOUND: { meaning: "no such job (or not reserved by this connection), or no such tube", kind: "result" },
  OUT_OF_MEMORY: { meaning: "the server cannot allocate memory for the job", kind: "down" },
  INTERNAL_ERROR: { meaning: "the server hit an internal error", kind: "bug" },
  BAD_FORMAT: { meaning: "the command line was malformed", kind: "bug" },
  UNKNOWN_COMMAND: { meaning: "the server does not know the command", kind: "bug" },
  EXPECTED_CRLF: { meaning: "the job body was not followed by \\r\\n", kind: "bug", breaksFraming: true },
  JOB_TOO_BIG: { meaning: "the job body is larger than the server's max-job-size (-z)", kind: "too-big" },
  DRAINING: { meaning: "the server is in drain mode and takes no new jobs", kind: "down" },
  DEADLINE_SOON: { meaning: "a job this connection reserved is within a second of its TTR", kind: "result" },
  TIMED_OUT: { meaning: "the reserve timed out with no job ready", kind: "result" },
  NOT_IGNORED: { meaning: "the connection would watch no tube at all", kind: "result" },
};

/** A reply the command did not expect, as the server sent it; the `cause` of the ZeroG error thrown for it. */
export class BeanstalkReplyError extends Error {
  readonly reply: string;
  readonly command: string;
  constructor(command: string, reply: string) {
    const known = ERROR_REPLIES[reply as ErrorReply];
    super(`beanstalkd answered '${reply}' to '${command}'${known ? `: ${known.meaning}` : ""}`);
    this.name = "BeanstalkReplyError";
    this.reply = reply;
    this.command = command;
  }
}

export function isErrorReply(word: string): word is ErrorReply {
  return Object.hasOwn(ERROR_REPLIES, word);
}

/** Whether the connection must be dropped after this reply (see `breaksFraming`). */
export function breaksFraming(word: string): boolean {
  return isErrorReply(word) && ERROR_REPLIES[word].breaksFraming === true;
}

/** The one mapping from an unexpected reply to the ZeroG error callers see. */
export function unexpectedReply(command: string, line: string): ZeroGError {
  const cause = new BeanstalkReplyError(command, line);
  const word = line.split(" ")[0] ?? "";
  const kind = isErrorReply(word) ? ERROR_REPLIES[word].kind : "bug";
  switch (kind) {
    case "down":
      return new BackendDownError(BACKEND_KIND, cause);
    case "too-big":
      return new ZeroGError("ZEROG_BODY_TOO_LARGE", cause.message, { cause });
    case "bug":
    case "result":
      return new ZeroGError("ZEROG_INTERNAL", cause.message, { cause });
  }
}

/** The connection failed (refused, dropped, silent past a deadline): what every affected call rejects with. */
export function connectionDown(message: string, cause?: unknown): BackendDownError {
  return new BackendDownError(BACKEND_KIND, new Error(message, cause === undefined ? undefined : { cause }));
}
