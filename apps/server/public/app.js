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
for (const t of document.querySelectorAll("time[datetime]")) {
  const d = new Date(t.getAttribute("datetime"));
  if (!Number.isNaN(d.getTime())) {
    t.title = t.textContent;
    t.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
}
