// Small progressive enhancements; every page works without this script.
document.addEventListener("keydown", (e) => {
  // "/" jumps to the search box, as in most code hosts.
  if (e.key !== "/" || e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
  const box = document.querySelector('input[name="q"]');
  if (box) {
    e.preventDefault();
    box.focus();
  }
});

// Show times in the reader's time zone; the server renders UTC.
function localTimes(root) {
  for (const t of root.querySelectorAll("time[datetime]")) {
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
