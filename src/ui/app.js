// The dashboard's entry: hash routing between the four views. Each view renders into <main> and
// returns a function that stops its polling and streams when the user leaves it.
import { clearError, say } from "./api.js";
import { h } from "./dom.js";
import { jobView } from "./job.js";
import { jobsView } from "./jobs.js";
import { newJobView } from "./new-job.js";
import { workersView } from "./workers.js";

const main = document.getElementById("main");
let leave = null;
let firstRender = true;

/** `#/jobs` (default), `#/jobs/<uuid>`, `#/new`, `#/workers`. */
function route() {
  leave?.();
  leave = null;
  clearError();
  say("");
  main.replaceChildren();
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/jobs";
  const detail = /^\/jobs\/([^/]+)$/.exec(path);
  let section = "";
  if (path === "/jobs") [section, leave] = ["jobs", jobsView(main)];
  else if (detail) [section, leave] = ["jobs", jobView(main, decodeURIComponent(detail[1]))];
  else if (path === "/new") [section, leave] = ["new", newJobView(main)];
  else if (path === "/workers") [section, leave] = ["workers", workersView(main)];
  else main.append(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "#/jobs" }, "Go to the jobs")));

  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.route === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const h1 = main.querySelector("h1");
  document.title = `${h1?.textContent ?? ""} · ZeroG`;
  // Move focus to the new view's heading so keyboard and screen-reader users start there;
  // not on the first load, where the skip link should come first.
  if (h1 && !firstRender) {
    h1.tabIndex = -1;
    h1.focus();
  }
  firstRender = false;
}

document.getElementById("banner-close").addEventListener("click", clearError);
window.addEventListener("hashchange", route);
route();
