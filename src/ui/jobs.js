// Jobs view (#/jobs): GET /jobs filtered by type and state, a page at a time, refreshed every second.
import { api, clearError, say } from "./api.js";
import { confirmAction, h, keyed, poll, setText, time } from "./dom.js";
import { drawProgress } from "./progress.js";

const STATES = ["queued", "delayed", "running", "finished", "failed", "killed"];
const PAGE_SIZE = 50;
/** One second: live enough to watch progress, one request per open tab (no per-row streams). */
const POLL_MS = 1000;
/** The table's columns; on a narrow screen each row stacks into a card and a cell shows its column's name. */
const COLUMNS = ["Job", "Type", "State", "Progress", "Result", "Created", "Updated"];

/** Kept across visits, so coming back from a job shows the same filters. */
const filters = { type: "", state: "" };

export function jobsView(main) {
  // The cursors of the pages walked through: the last is the page shown (null = newest).
  let pages = [null];
  let nextCursor = null;
  let seq = 0; // answers to older requests (before a filter or page change) are dropped

  const typeSelect = h("select", { id: "f-type", onchange: () => restart({ type: typeSelect.value }) });
  typeSelect.append(h("option", { value: "" }, "All types"));
  const stateSelect = h(
    "select",
    { id: "f-state", onchange: () => restart({ state: stateSelect.value }) },
    h("option", { value: "" }, "All states"),
    STATES.map((s) => h("option", { value: s }, s)),
  );
  stateSelect.value = filters.state;
  const tbody = h("tbody", { role: "rowgroup" });
  const empty = h("p", { class: "empty", hidden: true }, "No jobs match.");
  const pageInfo = h("span", { class: "page-info" });
  const newer = h("button", { type: "button", class: "secondary", onclick: () => turn(-1) }, "Newer");
  const older = h("button", { type: "button", class: "secondary", onclick: () => turn(1) }, "Older");
  // Shown while the list is filtered to failed or killed jobs: retries every job the filter matches.
  const retryAll = h("button", { type: "button", hidden: true, onclick: () => retryMatching() });

  main.append(
    h("h1", {}, "Jobs"),
    h(
      "div",
      { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "f-type" }, "Type"), typeSelect),
      h("div", { class: "field" }, h("label", { for: "f-state" }, "State"), stateSelect),
      retryAll,
    ),
    h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Jobs, scrollable" },
      // Explicit roles: the stacked layout changes the table's CSS display, which some browsers
      // take as a reason to stop announcing it as a table.
      h(
        "table",
        { class: "jobs-table", role: "table" },
        h("caption", {}, "Jobs"),
        h(
          "thead",
          { role: "rowgroup" },
          h(
            "tr",
            { role: "row" },
            COLUMNS.map((c) => h("th", { scope: "col", role: "columnheader" }, c)),
          ),
        ),
        tbody,
      ),
    ),
    empty,
    h("div", { class: "pager" }, newer, pageInfo, older),
  );

  // The job types for the filter; the list itself does not wait for them.
  api("GET", "/jobtypes").then(
    (types) => {
      for (const t of types) typeSelect.append(h("option", { value: t.jobType }, t.jobType));
      typeSelect.value = filters.type;
    },
    () => undefined, // shown in the banner
  );

  async function load() {
    const mine = ++seq;
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (filters.type) q.set("type", filters.type);
    if (filters.state) q.set("state", filters.state);
    const cursor = pages.at(-1);
    if (cursor) q.set("cursor", cursor);
    const page = await api("GET", `/jobs?${q}`);
    if (mine !== seq) return;
    clearError(); // a failed poll's message goes once the server answers again
    nextCursor = page.nextCursor;
    keyed(tbody, page.jobs, (j) => j.uuid, createRow, updateRow);
    empty.hidden = page.jobs.length > 0;
    newer.disabled = pages.length === 1;
    older.disabled = !nextCursor;
    setText(pageInfo, `Page ${pages.length}`);
  }

  function showRetryAll() {
    const { type, state } = filters;
    retryAll.hidden = state !== "failed" && state !== "killed";
    setText(retryAll, `Retry all ${state} jobs${type ? ` of type ${type}` : ""}`);
  }

  async function retryMatching() {
    const { type, state } = filters;
    const what = `every ${state} job${type ? ` of type ${type}` : ""}`;
    if (!(await confirmAction(`Retry ${what}?`, "Each runs again with a new attempt; logs and output are kept.")))
      return;
    const q = new URLSearchParams({ state });
    if (type) q.set("type", type);
    const res = await api("POST", `/jobs/retry?${q}`).catch(() => null);
    if (!res) return;
    say(`Retried ${res.retried} ${res.retried === 1 ? "job" : "jobs"}`);
    await load().catch(() => undefined);
  }

  function restart(change) {
    Object.assign(filters, change);
    showRetryAll();
    pages = [null];
    load().catch(() => undefined);
  }

  function turn(step) {
    if (step > 0 && nextCursor) pages.push(nextCursor);
    else if (step < 0 && pages.length > 1) pages.pop();
    else return;
    load().catch(() => undefined);
  }

  newer.disabled = true;
  older.disabled = true;
  showRetryAll();
  return poll(load, POLL_MS);
}

function createRow(job) {
  const cell = (i, attrs, ...children) => h("td", { role: "cell", "data-label": COLUMNS[i], ...attrs }, ...children);
  return h(
    "tr",
    { "data-uuid": job.uuid, role: "row" },
    cell(0, { class: "mono" }, h("a", { href: `#/jobs/${job.uuid}` }, job.uuid)),
    cell(1, {}, job.jobType),
    cell(2, {}, h("span", { class: "state" })),
    cell(
      3,
      { class: "progress-cell" },
      h(
        "div",
        { class: "progress-pair" },
        h("progress", { max: 1, value: 0, "aria-label": `Progress of ${job.uuid}` }),
        h("span", { class: "pct", "aria-hidden": "true" }),
      ),
    ),
    cell(4, {}),
    cell(5, {}),
    cell(6, {}),
  );
}

function updateRow(tr, job) {
  const [, , stateCell, progressCell, resultCell, createdCell, updatedCell] = tr.cells;
  const badge = stateCell.firstElementChild;
  setText(badge, job.state);
  badge.className = `state state-${job.state}`;
  drawProgress(progressCell.querySelector("progress"), progressCell.querySelector(".pct"), job);
  setText(resultCell, job.resultCode === -1 ? "—" : job.resultCode);
  if (createdCell.textContent === "") createdCell.append(time(job.createdAt));
  if (updatedCell.firstElementChild?.getAttribute("datetime") !== job.updatedAt) {
    updatedCell.replaceChildren(time(job.updatedAt));
  }
}
