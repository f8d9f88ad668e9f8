/** Every error ZeroG raises on purpose carries one of these codes. */
export type ErrorCode =
  | "ZEROG_UNKNOWN_JOB_TYPE"
  | "ZEROG_INVALID_PARAMS"
  | "ZEROG_INVALID_JSON"
  | "ZEROG_BODY_TOO_LARGE"
  | "ZEROG_JOB_NOT_FOUND"
  | "ZEROG_JOB_FINISHED"
  | "ZEROG_JOB_NOT_RETRYABLE"
  | "ZEROG_JOB_NOT_PURGEABLE"
  | "ZEROG_WORKER_NOT_FOUND"
  | "ZEROG_HOST_NOT_FOUND"
  | "ZEROG_WORKER_RETIRED"
  | "ZEROG_ROUTE_NOT_FOUND"
  | "ZEROG_BRANCH_NOT_FOUND"
  | "ZEROG_UNAUTHORIZED"
  | "ZEROG_BAD_REQUEST"
  | "ZEROG_ALREADY_EXISTS"
  | "ZEROG_CAS_MISMATCH"
  | "ZEROG_ENTRY_LOST"
  | "ZEROG_FENCED"
  | "ZEROG_INVALID_CONFIG"
  | "ZEROG_BACKEND_DOWN"
  | "ZEROG_CLOSED"
  | "ZEROG_INTERNAL";

/** HTTP status per code; `Record` makes the compiler keep this table complete. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  ZEROG_UNKNOWN_JOB_TYPE: 404,
  ZEROG_INVALID_PARAMS: 400,
  ZEROG_INVALID_JSON: 400,
  ZEROG_BODY_TOO_LARGE: 413,
  ZEROG_JOB_NOT_FOUND: 404,
  ZEROG_JOB_FINISHED: 409,
  ZEROG_JOB_NOT_RETRYABLE: 409,
  ZEROG_JOB_NOT_PURGEABLE: 409,
  ZEROG_WORKER_NOT_FOUND: 404,
  ZEROG_HOST_NOT_FOUND: 404,
  ZEROG_WORKER_RETIRED: 409,
  ZEROG_ROUTE_NOT_FOUND: 404,
  ZEROG_BRANCH_NOT_FOUND: 404,
  ZEROG_UNAUTHORIZED: 401,
  ZEROG_BAD_REQUEST: 400,
  ZEROG_ALREADY_EXISTS: 409,
  ZEROG_CAS_MISMATCH: 409,
  ZEROG_ENTRY_LOST: 409,
  ZEROG_FENCED: 409,
  ZEROG_INVALID_CONFIG: 500,
  ZEROG_BACKEND_DOWN: 503,
  ZEROG_CLOSED: 503,
  ZEROG_INTERNAL: 500,
};

/** One bad field of a job's params, as the API lists it. */
export interface ParamIssue {
  path: string;
  message: string;
}

export class ZeroGError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ZeroGError";
    this.code = code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

export class UnknownJobTypeError extends ZeroGError {
  constructor(jobType: string) {
    super("ZEROG_UNKNOWN_JOB_TYPE", `unknown job type '${jobType}'`);
  }
}

export class InvalidParamsError extends ZeroGError {
  readonly issues: readonly ParamIssue[];
  constructor(issues: readonly ParamIssue[]) {
    super(
      "ZEROG_INVALID_PARAMS",
      `invalid params: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
      {
        details: issues,
      },
    );
    this.issues = issues;
  }
}

export class JobNotFoundError extends ZeroGError {
  constructor(uuid: string) {
    super("ZEROG_JOB_NOT_FOUND", `no job with uuid '${uuid}'`);
  }
}

/** DELETE /job/{uuid} of a job that had finished (and not by a user's cancel or kill): nothing to cancel. */
export class JobFinishedError extends ZeroGError {
  constructor(uuid: string, resultCode: number) {
    super("ZEROG_JOB_FINISHED", `job '${uuid}' has already finished with result ${resultCode}: nothing to cancel`);
  }
}

/** POST /job/{uuid}/retry of a job that did not fail and was not killed: it is waiting, running or succeeded. */
export class JobNotRetryableError extends ZeroGError {
  constructor(uuid: string, status: string) {
    super("ZEROG_JOB_NOT_RETRYABLE", `job '${uuid}' is ${status}: only a failed or killed job can be retried`);
  }
}

/** DELETE /job/{uuid}?purge=true of a job that cannot be removed yet (`reason` says why). */
export class JobNotPurgeableError extends ZeroGError {
  constructor(uuid: string, reason: string) {
    super("ZEROG_JOB_NOT_PURGEABLE", `job '${uuid}' cannot be purged: ${reason}`);
  }
}

/** No live worker has this id (it never existed, or stopped announcing itself and dropped out). */
export class WorkerNotFoundError extends ZeroGError {
  constructor(workerId: string) {
    super("ZEROG_WORKER_NOT_FOUND", `no live worker with id '${workerId}'`);
  }
}

export class HostNotFoundError extends ZeroGError {
  constructor(host: string) {
    super("ZEROG_HOST_NOT_FOUND", `no live worker on host '${host}'`);
  }
}

/** The API token is set and the request did not carry it (`Authorization: Bearer <token>`). */
export class UnauthorizedError extends ZeroGError {
  constructor(reason: string) {
    super("ZEROG_UNAUTHORIZED", reason);
  }
}

/** A discovery path (`/{branch}/leaves`, `/{branch}/{leaf}/post-schema`, …) names no branch, or no leaf in it. */
export class BranchNotFoundError extends ZeroGError {
  constructor(branch: string, leaf?: string) {
    super(
      "ZEROG_BRANCH_NOT_FOUND",
      leaf === undefined ? `no branch '${branch}'` : `no job type '${leaf}' in branch '${branch}'`,
    );
  }
}

/** Retiring is irreversible: a retired worker cannot be undrained. */
export class WorkerRetiredError extends ZeroGError {
  constructor(workerId: string, message = `worker '${workerId}' is retired and cannot be undrained`) {
    super("ZEROG_WORKER_RETIRED", message);
  }
}

export class AlreadyExistsError extends ZeroGError {
  constructor(key: string) {
    super("ZEROG_ALREADY_EXISTS", `a document with key '${key}' already exists`);
  }
}

/** A write carried a stale version: someone else wrote the document first. */
export class CasMismatchError extends ZeroGError {
  constructor(key: string) {
    super("ZEROG_CAS_MISMATCH", `document '${key}' was changed by another writer`);
  }
}

/** A reserved queue entry is no longer ours (its TTR passed and it was reserved again, or it was deleted). */
export class EntryLostError extends ZeroGError {
  constructor(id: string) {
    super("ZEROG_ENTRY_LOST", `queue entry ${id} is no longer reserved by this worker`);
  }
}

/** A run that is no longer the job's current attempt tried to write. */
export class FencedError extends ZeroGError {
  constructor(uuid: string, attempt: number, current: number, reason: string | null = null) {
    super(
      "ZEROG_FENCED",
      reason === null
        ? `job ${uuid}: attempt ${attempt} was superseded by attempt ${current}`
        : `job ${uuid}: attempt ${attempt} may not go on: ${reason}`,
    );
  }
}

export class InvalidConfigError extends ZeroGError {
  constructor(message: string) {
    super("ZEROG_INVALID_CONFIG", message);
  }
}

export class BackendDownError extends ZeroGError {
  constructor(backend: string, cause: unknown) {
    super(
      "ZEROG_BACKEND_DOWN",
      `${backend} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}

/**
 * The backend took longer than its time limit to answer (`timeoutMs` in its URL): the server is
 * stalled (frozen, overloaded, or cut off with the connection still open). Same code and status
 * as BackendDownError; the message says "did not answer within … ms". The call may still take
 * effect when the server wakes up.
 */
export class BackendStalledError extends BackendDownError {
  readonly timeoutMs: number;
  constructor(backend: string, timeoutMs: number, cause?: unknown) {
    super(backend, new Error(`it did not answer within ${timeoutMs} ms (stalled)`, { cause }));
    this.timeoutMs = timeoutMs;
  }
}

export class ClosedError extends ZeroGError {
  constructor(what: string) {
    super("ZEROG_CLOSED", `${what} is closed`);
  }
}

export function isZeroGError(err: unknown, code?: ErrorCode): err is ZeroGError {
  return err instanceof ZeroGError && (code === undefined || err.code === code);
}

/**
 * The backend cannot serve now (down, or stalled past its time limit), as opposed to refusing
 * the call: worth retrying once it answers again.
 */
export function isBackendUnavailable(err: unknown): boolean {
  return isZeroGError(err, "ZEROG_BACKEND_DOWN");
}
