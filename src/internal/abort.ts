/**
 * Aborts `target` when `source` aborts (at once if it already has); returns the unlink.
 * Cheaper than AbortSignal.any, which costs several microseconds per call on Node 20 and
 * would run for every job.
 */
export function followAbort(target: AbortController, source: AbortSignal): () => void {
  if (source.aborted) {
    target.abort(source.reason);
    return () => undefined;
  }
  const onAbort = (): void => target.abort(source.reason);
  source.addEventListener("abort", onAbort, { once: true });
  return () => source.removeEventListener("abort", onAbort);
}
