// Job detail (#/jobs/<uuid>): the dump, then live updates from GET /events/{uuid}; if the stream
// fails, GET /dump every second instead.
import { api, eventsUrl, say } from "./api.js";
import { confirmAction, h, json, poll, setText, statusOf } from "./dom.js";

/** Fallback polling interval when the stream cannot be used (a proxy that buffers, a refused token). */
const POLL_MS = 1000;
const KINDS = [
  ["events", "event", "event"],
  ["warnings", "warning", "warning"],
  ["errors", "job-error", "error"],
]; // [log in the document, SSE event name, the word shown]

export function jobView(main, uuid) {
  const typeLine = h("p", {}, "Type: …");
  const stateLine = h("p", {}, "State: …");
  const resultLine = h("p", { hidden: true });
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Progress" });
  const pct = h("span", { class: "pct", "aria-hidden": "true" }, "0%");
  const actions = h("div", { class: "actions" });
  const timeline = h("ol", { "aria-label": "Timeline", class: "timeline" });
  const pre = () => h("pre", { tabindex: "0" }, "…");
  const params = pre();
  const output = pre();
  const dump = pre();
  main.append(
    h("h1", { class: "mono-title" }, `Job ${uuid}`),
    h("div", { class: "facts" }, typeLine, stateLine, resultLine),
    h("div", { class: "progress-line" }, bar, pct),
    actions,
    h("h2", {}, "Timeline"),
    timeline,
    section("Params", params),
    section("Output", output),
    section("Document", dump),
  );

  // Log entries shown so far, per log: new ones are those past these counts (a log only grows).
  const seen = { events: 0, warnings: 0, errors: 0 };
  let status = "";
  let stopped = false;
  let stopPolling = null;
  let stream = null;

  function addEntry(log, entry) {
    const [, , word] = KINDS.find(([k]) => k === log);
    const label = log === "errors" ? `${word} ${entry.errorCode}` : word;
    timeline.append(
      h(
        "li",
        { class: `entry entry-${word}` },
        h("time", { datetime: entry.timeStamp }, new Date(entry.timeStamp).toLocaleTimeString()),
        h("span", { class: "tag" }, label),
        h("span", { class: "msg" }, entry.msg),
      ),
    );
  }

  function setProgress(completeness) {
    if (bar.value !== completeness) bar.value = completeness;
    setText(pct, `${Math.round(completeness * 100)}%`);
  }

  function setStatus(next, resultCode) {
    if (next !== status) {
      status = next;
      setText(stateLine, `State: ${status}`);
      renderActions();
    }
    if (resultCode !== undefined && resultCode !== -1) {
      setText(resultLine, `Result: ${resultCode}`);
      resultLine.hidden = false;
    }
  }

  /** Everything from one dump: facts, progress, new timeline entries (merged in time order), JSON. */
  function applyDoc(doc) {
    setText(typeLine, `Type: ${doc.jobType}`);
    setStatus(statusOf(doc.state, doc.resultCode), doc.resultCode);
    setProgress(doc.completeness);
    const fresh = KINDS.flatMap(([log]) => (doc[log] ?? []).slice(seen[log]).map((entry) => ({ log, entry })));
    fresh.sort((a, b) => (a.entry.timeStamp < b.entry.timeStamp ? -1 : a.entry.timeStamp > b.entry.timeStamp ? 1 : 0));
    for (const { log, entry } of fresh) addEntry(log, entry);
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

  /** Live updates: the stream resumes after the entries the dump already showed (`lastEventId`). */
  function openStream() {
    const es = new EventSource(eventsUrl(uuid, { lastEventId: `${seen.events}.${seen.warnings}.${seen.errors}` }));
    stream = es;
    es.addEventListener("progress", (e) => {
      const d = JSON.parse(e.data);
      setProgress(d.completeness);
      if (d.state !== "finished") setStatus(d.state);
    });
    for (const [log, name] of KINDS) {
      es.addEventListener(name, (e) => {
        const d = JSON.parse(e.data);
        if (d.index < seen[log]) return; // already shown
        seen[log] = d.index + 1;
        addEntry(log, d);
      });
    }
    es.addEventListener("result", (e) => {
      es.close(); // the server closes the stream; without this the EventSource would reconnect
      const d = JSON.parse(e.data);
      setProgress(d.completeness);
      setStatus(statusOf("finished", d.result), d.result);
      refresh().catch(() => undefined); // the final document and output
    });
    es.addEventListener("gone", (e) => {
      es.close();
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
    } else {
      actions.replaceChildren();
    }
  }

  function actionButton(label, title, text, method, path) {
    return h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: async () => {
          if (!(await confirmAction(title, text))) return;
          const res = await api(method, path).catch(() => null);
          if (!res) return;
          say(`Job ${uuid}: ${res.result}`);
          if (!stream) await refresh().catch(() => undefined);
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

  return () => {
    stopped = true;
    stream?.close();
    stopPolling?.();
  };
}

function section(name, pre) {
  return h("section", { "aria-label": name }, h("h2", {}, name), pre);
}
