// How far a job got, told honestly. A finished job's `completeness` reads 1 whatever its outcome,
// so a failed or killed job is drawn at the completeness it had reached (`completenessAtEnd`),
// in its own colour and with its own words; a job waiting for its next attempt says when that is.
import { setText } from "./dom.js";

/** `0.36` → "36 %" (a no-break space keeps the sign with its number when the text wraps). */
export function percent(x) {
  return `${Math.round(x * 100)}\u00a0%`;
}

/** A time still to come, from now: "in 25 s", "in 3 min", "in 2 h", "in 4 d"; "now" once it is due. */
export function fromNow(iso, now = Date.now()) {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (!(s > 0)) return "now";
  if (s < 90) return `in ${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `in ${min} min`;
  const hours = Math.round(min / 60);
  return hours < 36 ? `in ${hours} h` : `in ${Math.round(hours / 24)} d`;
}

/** A clock time: the time of day when it is today, the date too otherwise. */
export function clockTime(iso, now = Date.now()) {
  const at = new Date(iso);
  return at.toDateString() === new Date(now).toDateString() ? at.toLocaleTimeString() : at.toLocaleString();
}

/**
 * What a job's progress bar shows: `value` (0..1), `tone` ("running", "finished", "failed",
 * "killed" or "waiting"; the bar's colour) and `text` (the words beside it, and the bar's
 * `aria-valuetext`). `job` is a row of GET /jobs or a document of GET /dump: `state` (either
 * form), `resultCode`, `completeness`, and, when the server sends them, `completenessAtEnd`,
 * `nextAttemptAt` and `attempt`.
 */
export function progressOf(job, now = Date.now()) {
  const finished = ["finished", "failed", "killed"].includes(job.state);
  if (finished) {
    const code = job.resultCode;
    // Documents written before completenessAtEnd was kept fall back to completeness.
    const reached = job.completenessAtEnd ?? job.completeness;
    if (code >= 200 && code <= 299) return { value: 1, tone: "finished", text: percent(1) };
    if (code === 410) return { value: reached, tone: "killed", text: `killed at ${percent(reached)}` };
    return { value: reached, tone: "failed", text: `failed at ${percent(reached)}` };
  }
  if (job.state === "delayed" && job.nextAttemptAt) {
    // attempt 0: created with a delay and never run yet, so there is no "next" attempt.
    const what = job.attempt === 0 ? "starts" : "next attempt";
    const when = `at ${clockTime(job.nextAttemptAt, now)} (${fromNow(job.nextAttemptAt, now)})`;
    return { value: job.completeness, tone: "waiting", text: `${what} ${when}` };
  }
  return { value: job.completeness, tone: "running", text: percent(job.completeness) };
}

/** Draws `progressOf(job)` into a <progress> and the text element beside it. */
export function drawProgress(bar, textEl, job, now = Date.now()) {
  const p = progressOf(job, now);
  if (bar.value !== p.value) bar.value = p.value;
  const tone = `bar bar-${p.tone}`;
  if (bar.className !== tone) bar.className = tone;
  if (bar.getAttribute("aria-valuetext") !== p.text) bar.setAttribute("aria-valuetext", p.text);
  setText(textEl, p.text);
  // The ISO time of the next attempt, for a hover; the text gives the local one.
  const title = p.tone === "waiting" ? job.nextAttemptAt : null;
  if (title) textEl.title = title;
  else textEl.removeAttribute("title");
}
