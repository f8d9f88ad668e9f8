import { mapDriverError } from "../backends/registry.ts";
import { type ErrorCode, HTTP_STATUS, isZeroGError, ZeroGError } from "../errors.ts";

/** The JSON body of every error response. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
  /** For ZEROG_INVALID_PARAMS: each bad field. */
  issues?: unknown;
}

/** One mapping from anything thrown to a coded error; the only place backend errors become HTTP errors. */
export function toZeroGError(err: unknown): ZeroGError {
  if (err instanceof ZeroGError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code === "FST_ERR_CTP_BODY_TOO_LARGE") return new ZeroGError("ZEROG_BODY_TOO_LARGE", "request body is too large");
  // A backend's own codes (SQLite's busy or I/O errors), mapped by its driver.
  const mapped = mapDriverError(err);
  if (mapped) return mapped;
  const status = typeof e?.statusCode === "number" ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return new ZeroGError("ZEROG_BAD_REQUEST", typeof e?.message === "string" ? e.message : "bad request");
  }
  return new ZeroGError("ZEROG_INTERNAL", "internal error", { cause: err });
}

export function errorBody(err: ZeroGError): ErrorBody {
  const body: ErrorBody = { error: err.code, message: err.message };
  if (isZeroGError(err, "ZEROG_INVALID_PARAMS")) body.issues = err.details;
  return body;
}

export function statusOf(err: ZeroGError): number {
  return HTTP_STATUS[err.code];
}
