// Jobs view (#/jobs): GET /jobs filtered by type and state, a page at a time, refreshed every second.
import { api, clearError } from "./api.js";
import { h, keyed, poll, setText, time } from "./dom.js";

const STATES = ["queued", "delayed", "running", "finished", "failed", "killed"];
const PAGE_SIZE = 50;
/** One second: live enough to watch progress, one request per open tab (no per-row streams). */
const POLL_MS = 1000;

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
  const tbody = h("tbody");
  const empty = h("p", { class: "empty", hidden: true }, "No jobs match.");
  const pageInfo = h("span", { class: "page-info" });
  const newer = h("button", { type: "button", class: "secondary", onclick: () => turn(-1) }, "Newer");
  const older = h("button", { type: "button", class: "secondary", onclick: () => turn(1) }, "Older");

  main.append(
    h("h1", {}, "Jobs"),
    h(
      "div",
      { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "f-type" }, "Type"), typeSelect),
      h("div", { class: "field" }, h("label", { for: "f-state" }, "State"), stateSelect),
    ),
    h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Jobs, scrollable" },
      h(
        "table",
        {},
        h("caption", {}, "Jobs"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Job", "Type", "State", "Progress", "Result", "Created", "Updated"].map((c) =>
              h("th", { scope: "col" }, c),
            ),
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

  function restart(change) {
    Object.assign(filters, change);
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
  return poll(load, POLL_MS);
}

function createRow(job) {
  return h(
    "tr",
    { "data-uuid": job.uuid },
    h("td", { class: "mono" }, h("a", { href: `#/jobs/${job.uuid}` }, job.uuid)),
    h("td", {}, job.jobType),
    h("td", {}, h("span", { class: "state" })),
    h(
      "td",
      { class: "progress-cell" },
      h("progress", { max: 1, value: 0, "aria-label": `Progress of ${job.uuid}` }),
      h("span", { class: "pct", "aria-hidden": "true" }),
    ),
    h("td", {}),
    h("td", {}),
    h("td", {}),
  );
}

function updateRow(tr, job) {
  const [, , stateCell, progressCell, resultCell, createdCell, updatedCell] = tr.cells;
  const badge = stateCell.firstElementChild;
  setText(badge, job.state);
  badge.className = `state state-${job.state}`;
  const bar = progressCell.querySelector("progress");
  if (bar.value !== job.completeness) bar.value = job.completeness;
  setText(progressCell.querySelector(".pct"), `${Math.round(job.completeness * 100)}%`);
  setText(resultCell, job.resultCode === -1 ? "—" : job.resultCode);
  if (createdCell.textContent === "") createdCell.append(time(job.createdAt));
  if (updatedCell.firstElementChild?.getAttribute("datetime") !== job.updatedAt) {
    updatedCell.replaceChildren(time(job.updatedAt));
  }
}
