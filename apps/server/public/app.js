// Small progressive enhancements; every page works without this script.

// j/k (or the arrow keys) pick a row of the session list, Enter opens it.
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const rows = [...document.querySelectorAll("tr.session-row")];
  if (!rows.length) return;
  const at = rows.findIndex((r) => r.classList.contains("selected"));
  let next = null;
  if (e.key === "j" || e.key === "ArrowDown") next = Math.min(rows.length - 1, at + 1);
  else if (e.key === "k" || e.key === "ArrowUp") next = Math.max(0, at - 1);
  else if (e.key === "Enter" && at >= 0) {
    const link = rows[at].querySelector(".title a");
    if (link) location.href = link.href;
    return;
  } else return;
  e.preventDefault();
  rows[at]?.classList.remove("selected");
  rows[next].classList.add("selected");
  rows[next].scrollIntoView({ block: "nearest" });
});

document.addEventListener("keydown", (e) => {
  // "/" jumps to the search box, as in most code hosts.
  if (e.key !== "/" || e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
  const box = document.querySelector('input[name="q"]');
  if (box) {
    e.preventDefault();
    box.focus();
  }
});

// Show times in the reader's time zone; the server renders UTC. Relative times ("3 h ago") keep their
// text and get the local time to the second on hover.
function localTimes(root) {
  for (const t of root.querySelectorAll("time.rel[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!Number.isNaN(d.getTime())) t.title = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  }
  for (const t of root.querySelectorAll("time[datetime]:not(.rel)")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!Number.isNaN(d.getTime())) {
      t.title = t.textContent;
      t.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  }
}
localTimes(document);

// Live: a part of the page marked data-live re-reads itself when its event stream says something changed
// (a new session in the list, new lines in an open session). Open <details> stay open.
const live = document.querySelector("[data-live]");
if (live && window.EventSource) {
  let busy = false;
  let again = false;
  const refresh = async () => {
    if (busy) return void (again = true);
    busy = true;
    try {
      const res = await fetch(location.href, { headers: { accept: "text/html" }, credentials: "same-origin" });
      if (!res.ok) return;
      const fresh = new DOMParser().parseFromString(await res.text(), "text/html").querySelector("[data-live]");
      if (!fresh) return;
      const open = new Set([...live.querySelectorAll("details[open]")].map((d) => d.closest("[id]")?.id + "/" + [...d.parentElement.children].indexOf(d)));
      live.replaceChildren(...fresh.childNodes);
      for (const d of live.querySelectorAll("details")) if (open.has(d.closest("[id]")?.id + "/" + [...d.parentElement.children].indexOf(d))) d.open = true;
      localTimes(live);
      live.dispatchEvent(new CustomEvent("live-updated", { bubbles: true }));
    } finally {
      busy = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };
  const events = new EventSource(live.getAttribute("data-live"));
  events.addEventListener("open", () => live.setAttribute("data-live-state", "open"));
  events.addEventListener("change", () => void refresh());
}

// Copy buttons (a command, a message, a diff). The clipboard API needs a secure context and the page's
// permission; without them the older copy command is tried, and when that is refused too nothing happens.
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}
document.addEventListener("click", async (e) => {
  const button = e.target instanceof Element ? e.target.closest("button.copy[data-copy]") : null;
  if (!button) return;
  e.preventDefault();
  if (!(await copyText(button.getAttribute("data-copy")))) return;
  button.textContent = "Copied";
  button.classList.add("copied");
  setTimeout(() => {
    button.textContent = "Copy";
    button.classList.remove("copied");
  }, 1500);
});

// Deep links: a page opened with #step-… (or whose hash changes) shows that step: it opens the step if it
// is a folded reasoning summary, scrolls it to the middle of the window and highlights it.
function showStep() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id.startsWith("step-")) return;
  const step = document.getElementById(id);
  if (!step) return;
  for (const old of document.querySelectorAll(".step-highlight")) old.classList.remove("step-highlight");
  if (step instanceof HTMLDetailsElement) step.open = true;
  step.classList.add("step-highlight");
  step.scrollIntoView({ block: "center" });
}
showStep();
window.addEventListener("hashchange", showStep);
document.addEventListener("live-updated", () => {
  const id = decodeURIComponent(location.hash.slice(1));
  if (id.startsWith("step-")) document.getElementById(id)?.classList.add("step-highlight");
});
