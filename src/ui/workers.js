// Workers view (#/workers): GET /workers every second; drain, undrain, retire per worker or host,
// kill a running job, pause or resume a job type. Every action asks first: each changes what the fleet runs.
import { api, clearError, say } from "./api.js";
import { confirmAction, h, keyed, poll, setText } from "./dom.js";
import { jobTypesSection } from "./job-types.js";

/** One second: a drain shows within the workers' own control poll (500 ms) plus this. */
const POLL_MS = 1000;
const MB = 1024 * 1024;
/** The open view's refresh, run after each action so its effect shows without waiting for the poll. */
let reload = async () => undefined;

export function workersView(main) {
  const queueLine = h("p", { "aria-label": "Queue depth", class: "queue" }, "…");
  const hosts = h("div", { class: "hosts" });
  const empty = h("p", { class: "empty", hidden: true }, "No workers are running.");
  const jobTypes = jobTypesSection(() => reload());
  main.append(h("h1", {}, "Workers"), queueLine, hosts, empty, jobTypes.section);

  async function load() {
    const fleet = await api("GET", "/workers");
    clearError();
    const q = fleet.queue;
    setText(queueLine, `ready ${q.ready}, delayed ${q.delayed}, reserved ${q.reserved}, buried ${q.buried}`);
    await jobTypes.update(fleet.pausedTypes);
    keyed(
      hosts,
      fleet.hosts,
      (s) => s.host,
      (s) => hostSection(s.host),
      updateHost,
    );
    empty.hidden = fleet.hosts.length > 0;
  }
  reload = load;
  return poll(load, POLL_MS);
}

/** Sends a control request, says what it reached, and reloads the view. */
async function control(path) {
  const res = await api("POST", path).catch(() => null);
  if (!res) return;
  const n = res.workers?.length ?? 0;
  say(res.sent ? `${res.sent} sent to ${n} worker${n === 1 ? "" : "s"}` : `job ${res.uuid}: ${res.result}`);
  await reload().catch(() => undefined);
}

/** A button that asks first (`confirm` is [title, text]), then sends; `danger` for what cannot be undone. */
function actionButton(label, ariaLabel, path, confirm, danger = false) {
  return h(
    "button",
    {
      type: "button",
      class: danger ? "danger small" : "secondary small",
      "aria-label": ariaLabel,
      onclick: async () => {
        if (!(await confirmAction(...confirm))) return;
        await control(path);
      },
    },
    label,
  );
}

function hostSection(host) {
  const p = `/hosts/${encodeURIComponent(host)}`;
  const tbody = h("tbody");
  return h(
    "section",
    { "aria-label": `Host ${host}`, class: "host" },
    h("div", { class: "host-head" }, h("h2", {}, host), h("span", { class: "host-state" })),
    h("p", { class: "host-summary" }),
    h(
      "div",
      { class: "actions" },
      actionButton("Drain host", null, `${p}/drain`, [
        `Drain host ${host}?`,
        "Its workers finish their jobs and take no new ones until undrained.",
      ]),
      actionButton("Undrain host", null, `${p}/undrain`, [`Undrain host ${host}?`, "Its workers take jobs again."]),
      actionButton(
        "Retire host",
        null,
        `${p}/retire`,
        [`Retire host ${host}?`, "Its workers finish their jobs and take no more; this cannot be undone."],
        true,
      ),
    ),
    h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Workers on ${host}, scrollable` },
      h(
        "table",
        {},
        h("caption", {}, `Workers on ${host}`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Worker", "State", "Running", "Memory (MB)", "Actions"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        tbody,
      ),
    ),
  );
}

function updateHost(section, summary) {
  const badge = section.querySelector(".host-state");
  // Added or removed, not hidden: "safe to terminate" is on the page only when it is true.
  if (summary.drained && !badge.firstChild) badge.append(h("strong", { class: "safe" }, "safe to terminate"));
  if (!summary.drained) badge.replaceChildren();
  const n = summary.workers.length;
  setText(
    section.querySelector(".host-summary"),
    `${n} worker${n === 1 ? "" : "s"}, ${summary.running} running job${summary.running === 1 ? "" : "s"}`,
  );
  keyed(section.querySelector("tbody"), summary.workers, (w) => w.workerId, workerRow, updateWorker);
}

function workerRow(w) {
  const id = w.workerId;
  const p = `/workers/${encodeURIComponent(id)}`;
  return h(
    "tr",
    { "data-worker-id": id },
    h("td", { class: "mono" }, id),
    h("td", {}, h("span", { class: "state" })),
    h("td", { class: "mono" }),
    h("td", { class: "num" }),
    h(
      "td",
      {},
      h(
        "div",
        { class: "actions" },
        actionButton("Drain", `Drain ${id}`, `${p}/drain`, [
          `Drain worker ${id}?`,
          "It finishes its jobs and takes no new ones until undrained.",
        ]),
        actionButton("Undrain", `Undrain ${id}`, `${p}/undrain`, [`Undrain worker ${id}?`, "It takes jobs again."]),
        actionButton(
          "Retire",
          `Retire ${id}`,
          `${p}/retire`,
          [`Retire worker ${id}?`, "It finishes its jobs and takes no more; this cannot be undone."],
          true,
        ),
        h("span", { class: "kills" }),
      ),
    ),
  );
}

function updateWorker(tr, w) {
  const [, stateCell, runningCell, memCell, actionsCell] = tr.cells;
  const badge = stateCell.firstElementChild;
  setText(badge, w.state);
  badge.className = `state state-${w.state}`;
  setText(memCell, Math.round((w.mem?.used ?? 0) / MB));
  const uuids = (w.running ?? []).map((r) => r.uuid);
  const key = uuids.join(" ");
  if (tr.dataset.running === key) return;
  tr.dataset.running = key;
  runningCell.replaceChildren(
    ...(uuids.length === 0
      ? ["—"]
      : uuids.flatMap((u, i) => [i > 0 ? ", " : "", h("a", { href: `#/jobs/${u}` }, u)]).filter(Boolean)),
  );
  actionsCell
    .querySelector(".kills")
    .replaceChildren(
      ...uuids.map((u) =>
        actionButton(
          "Kill",
          `Kill ${u}`,
          `/job/${encodeURIComponent(u)}/kill`,
          [`Kill job ${u}?`, "Its worker stops it now; it finishes with 410."],
          true,
        ),
      ),
    );
}
