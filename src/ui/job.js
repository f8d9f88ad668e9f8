// Job detail (#/jobs/<uuid>): the dump, then live updates from GET /events/{uuid}; if the stream
// fails, GET /dump every second instead.
import { api, eventsUrl, say } from "./api.js";
import { confirmAction, h, json, poll, setText, statusOf, time } from "./dom.js";
import { drawProgress } from "./progress.js";

/** Fallback polling interval when the stream cannot be used (a proxy that buffers, a refused token). */
const POLL_MS = 1000;
/** How often "next attempt … (in 25 s)" counts down: its smallest unit. */
const TICK_MS = 1000;
/** The timeline counts as scrolled to its end within this many pixels (rounding, zoom). */
const PIN_SLACK_PX = 8;
const KINDS = [
  ["events", "event", "event"],
  ["warnings", "warning", "warning"],
  ["errors", "job-error", "error"],
]; // [log in the document, SSE event name, the word shown]
/** The labelled fields at the top, in order: [key, label]. */
const FACTS = [
  ["type", "Type"],
  ["state", "State"],
  ["result", "Result"],
  ["attempt", "Attempt"],
  ["worker", "Worker"],
  ["started", "Started"],
  ["finished", "Finished"],
  ["errors", "Errors"],
];

export function jobView(main, uuid) {
  const values = new Map(FACTS.map(([key]) => [key, h("dd", {}, "…")]));
  const facts = h(
    "dl",
    { class: "facts", "aria-label": "Job" },
    // "State:" and its value with a space between, so the pair reads (and copies) as one line.
    FACTS.map(([key, label]) =>
      h("div", { class: "fact", "data-fact": key }, h("dt", {}, `${label}:`), " ", values.get(key)),
    ),
  );
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Progress" });
  const pct = h("span", { class: "pct", "aria-hidden": "true" }, "0\u00a0%");
  const actions = h("div", { class: "actions" });
  const timeline = h("ol", { "aria-label": "Timeline", class: "timeline", tabindex: "0" });
  const pre = () => h("pre", { tabindex: "0" }, "…");
  const params = pre();
  const output = pre();
  const dump = pre();
  main.append(
    h("h1", { class: "mono-title" }, `Job ${uuid}`),
    facts,
    h("div", { class: "progress-line" }, bar, pct),
    actions,
    h("h2", {}, "Timeline"),
    timeline,
    section("Params", params),
    section("Output", output),
    section("Document", dump),
  );

  /** What the page knows of the job: the last document, moved on by the stream's events. */
  const job = {
    jobType: "…",
    state: "",
    resultCode: -1,
    completeness: 0,
    completenessAtEnd: undefined,
    nextAttemptAt: null,
    attempt: 0,
    workerId: null,
    startedAt: null,
    finishedAt: null,
    errorCount: 0,
  };
  // Log entries shown so far, per log: new ones are those past these counts (a log only grows).
  const seen = { events: 0, warnings: 0, errors: 0 };
  let status = "";
  let stopped = false;
  let stopPolling = null;
  let stream = null;

  function setFact(key, value) {
    const dd = values.get(key);
    if (typeof value === "string") return setText(dd, value);
    // A time: replaced only when it changed, so a hover on it survives the updates.
    const iso = value.iso ?? "";
    if (dd.dataset.iso === iso) return;
    dd.dataset.iso = iso;
    dd.replaceChildren(time(value.iso));
  }

  function render() {
    setFact("type", job.jobType);
    const next = statusOf(job.state, job.resultCode);
    setFact("state", next);
    if (next !== status) {
      status = next;
      renderActions();
    }
    setFact("result", job.resultCode === -1 ? "—" : String(job.resultCode));
    setFact("attempt", String(job.attempt));
    setFact("worker", job.workerId ?? "—");
    setFact("started", { iso: job.startedAt });
    setFact("finished", { iso: job.finishedAt });
    setFact("errors", String(job.errorCount));
    drawProgress(bar, pct, job);
  }

  /** Appends entries in the order given; the view follows them if it was at the end already. */
  function addEntries(list) {
    if (list.length === 0) return;
    const pinned = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight <= PIN_SLACK_PX;
    for (const { log, entry } of list) timeline.append(entryItem(log, entry));
    if (pinned) timeline.scrollTop = timeline.scrollHeight;
  }

  /** Everything from one dump: facts, progress, new timeline entries (merged in time order), JSON. */
  function applyDoc(doc) {
    // A read that left before the job finished may answer after the stream said it had: keep the end.
    if (job.state === "finished" && doc.state !== "finished") return;
    for (const key of Object.keys(job)) if (key in doc) job[key] = doc[key];
    // Documents written before these were kept lack them.
    if (!("completenessAtEnd" in doc)) job.completenessAtEnd = undefined;
    if (!("nextAttemptAt" in doc)) job.nextAttemptAt = null;
    render();
    const fresh = KINDS.flatMap(([log]) => (doc[log] ?? []).slice(seen[log]).map((entry) => ({ log, entry })));
    fresh.sort((a, b) => (a.entry.timeStamp < b.entry.timeStamp ? -1 : a.entry.timeStamp > b.entry.timeStamp ? 1 : 0));
    addEntries(fresh);
    for (const [log] of KINDS) seen[log] = Math.max(seen[log], doc[log]?.length ?? 0);
    setText(params, json(doc.params));
    setText(dump, json(doc));
  }

  async function refresh() {
    const [doc, data] = await Promise.all([
      api("GET", `/dump/${encodeURIComponent(uuid)}?showLogs=true`),
      api("GET", `/data/${encodeURIComponent(uuid)}`),
    ]);
    if (stopped) return doc;
    applyDoc(doc);
    setText(output, json(data));
    return doc;
  }

  // The stream's events carry progress, state and the logs, not the attempt, worker or times:
  // a change of state reads the document again. One read at a time; asks meanwhile make one more.
  let reading = null;
  let readAgain = false;
  function refreshSoon() {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = refresh()
      .catch(() => undefined)
      .finally(() => {
        reading = null;
        if (readAgain && !stopped) {
          readAgain = false;
          refreshSoon();
        }
      });
  }

  /** Live updates: the stream resumes after the entries the dump already showed (`lastEventId`). */
  function openStream() {
    const es = new EventSource(eventsUrl(uuid, { lastEventId: `${seen.events}.${seen.warnings}.${seen.errors}` }));
    stream = es;
    es.addEventListener("progress", (e) => {
      const d = JSON.parse(e.data);
      if (d.state === "finished") return; // the result event comes next, with the result code
      job.completeness = d.completeness;
      if (d.state !== job.state) {
        job.state = d.state;
        job.nextAttemptAt = d.nextAttemptAt ?? null;
        refreshSoon();
      }
      render();
    });
    for (const [log, name] of KINDS) {
      es.addEventListener(name, (e) => {
        const d = JSON.parse(e.data);
        if (d.index < seen[log]) return; // already shown
        seen[log] = d.index + 1;
        addEntries([{ log, entry: d }]);
        if (log === "errors") refreshSoon(); // the error count
      });
    }
    es.addEventListener("result", (e) => {
      es.close(); // the server closes the stream; without this the EventSource would reconnect
      if (stream === es) stream = null;
      const d = JSON.parse(e.data);
      Object.assign(job, { state: "finished", resultCode: d.result, completeness: d.completeness });
      if (d.completenessAtEnd !== undefined && d.completenessAtEnd !== null)
        job.completenessAtEnd = d.completenessAtEnd;
      if (d.errorCount !== undefined) job.errorCount = d.errorCount;
      render();
      refreshSoon(); // the final document and output
    });
    es.addEventListener("gone", (e) => {
      es.close();
      if (stream === es) stream = null;
      say(JSON.parse(e.data).message);
    });
    // The browser's own connection error (also a 401 or 404 answer): fall back to polling.
    es.addEventListener("error", () => {
      if (es !== stream) return;
      es.close();
      stream = null;
      if (!stopped && !stopPolling) stopPolling = poll(pollOnce, POLL_MS);
    });
  }

  async function pollOnce() {
    const doc = await refresh();
    if (doc.state === "finished" && stopPolling) {
      stopPolling();
      stopPolling = null;
    }
  }

  function renderActions() {
    const waiting = status === "queued" || status === "delayed";
    if (waiting) {
      actions.replaceChildren(
        actionButton("Cancel job", `Cancel job ${uuid}?`, "It will never run.", "DELETE", `/job/${uuid}`),
      );
    } else if (status === "running") {
      actions.replaceChildren(
        actionButton("Kill job", `Kill job ${uuid}?`, "Its worker stops it now.", "POST", `/job/${uuid}/kill`),
      );
    } else if (status === "failed" || status === "killed") {
      actions.replaceChildren(
        actionButton(
          "Retry job",
          `Retry job ${uuid}?`,
          "It runs again from the start, with a new attempt; its logs and output are kept.",
          "POST",
          `/job/${uuid}/retry`,
          { kind: "primary", after: followAgain },
        ),
        purgeButton(),
      );
    } else if (status === "finished") {
      actions.replaceChildren(purgeButton());
    } else {
      actions.replaceChildren();
    }
  }

  function purgeButton() {
    const text = "Its document, logs and output are removed for good.";
    return actionButton("Purge job", `Purge job ${uuid}?`, text, "DELETE", `/job/${uuid}?purge=true`, {
      after: () => {
        location.hash = "#/jobs";
      },
    });
  }

  /** After a retry: the job is waiting again, so the page follows it as a new job. */
  async function followAgain() {
    job.state = ""; // applyDoc keeps a finished job's end otherwise
    const doc = await refresh().catch(() => null);
    if (doc && doc.state !== "finished" && !stream && !stopped) openStream();
  }

  function actionButton(label, title, text, method, path, { kind = "danger", after } = {}) {
    return h(
      "button",
      {
        type: "button",
        class: kind,
        onclick: async () => {
          if (!(await confirmAction(title, text))) return;
          const res = await api(method, path).catch(() => null);
          if (!res) return;
          say(`Job ${uuid}: ${res.result}`);
          if (after) await after();
          else if (!stream) await refresh().catch(() => undefined);
        },
      },
      label,
    );
  }

  refresh().then(
    (doc) => {
      if (stopped) return;
      if (doc.state === "finished") return; // nothing more will change
      openStream();
    },
    () => undefined, // the banner says why (404 for an unknown job)
  );

  // Counts down "next attempt … (in 25 s)" while the job waits for it.
  const ticker = setInterval(() => {
    if (job.state === "delayed") drawProgress(bar, pct, job);
  }, TICK_MS);

  return () => {
    stopped = true;
    clearInterval(ticker);
    stream?.close();
    stopPolling?.();
  };
}

/** One timeline entry: its time, its kind, and its message with its line breaks (a stack trace keeps its lines). */
function entryItem(log, entry) {
  const [, , word] = KINDS.find(([k]) => k === log);
  const label = log === "errors" ? `${word} ${entry.errorCode}` : word;
  const msg = String(entry.msg);
  return h(
    "li",
    { class: `entry entry-${word}` },
    h("time", { datetime: entry.timeStamp, title: entry.timeStamp }, new Date(entry.timeStamp).toLocaleTimeString()),
    h("span", { class: "tag" }, label),
    h("span", { class: msg.includes("\n") ? "msg msg-lines" : "msg" }, msg),
  );
}

function section(name, pre) {
  return h("section", { "aria-label": name }, h("h2", {}, name), pre);
}
