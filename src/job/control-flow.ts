/**
 * The errors a job raises to steer the worker (rows 5 and 6 of the outcome table in
 * docs/job-states.md). Each is recorded on the job before
 * it is thrown; the worker only decides what happens next.
 */
export type ControlKind = "errorFinish" | "warningFinish" | "errorContinue" | "warningContinue";

export class JobControlError extends Error {
  readonly kind: ControlKind;
  readonly resultCode: number;

  constructor(kind: ControlKind, resultCode: number, message: string) {
    super(message);
    this.name = "JobControlError";
    this.kind = kind;
    this.resultCode = resultCode;
  }

  /** True for the kinds that end the job at once. */
  get finishes(): boolean {
    return this.kind === "errorFinish" || this.kind === "warningFinish";
  }
}

export class ErrorFinish extends JobControlError {
  constructor(code: number, msg: string) {
    super("errorFinish", code, msg);
    this.name = "ErrorFinish";
  }
}

export class WarningFinish extends JobControlError {
  constructor(code: number, msg: string) {
    super("warningFinish", code, msg);
    this.name = "WarningFinish";
  }
}

export class ErrorContinue extends JobControlError {
  constructor(code: number, msg: string) {
    super("errorContinue", code, msg);
    this.name = "ErrorContinue";
  }
}

export class WarningContinue extends JobControlError {
  constructor(code: number, msg: string) {
    super("warningContinue", code, msg);
    this.name = "WarningContinue";
  }
}

/** What a run threw, as plain data so it can cross a process boundary. */
export interface ThrownError {
  name: string;
  message: string;
  stack: string;
  control?: { kind: ControlKind; resultCode: number };
}

export function describeThrown(err: unknown): ThrownError {
  const e =
    err instanceof Error ? err : new Error(typeof err === "string" ? err : `non-error thrown: ${safeString(err)}`);
  const out: ThrownError = { name: e.name, message: e.message, stack: e.stack ?? `${e.name}: ${e.message}` };
  if (err instanceof JobControlError) out.control = { kind: err.kind, resultCode: err.resultCode };
  return out;
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
