// Draws the usage page's charts with Chart.js from the JSON the server put in the page.
const usage = JSON.parse(document.getElementById("usage-data").textContent);
const Chart = window.Chart;
const bar = (id, rows, value, label) =>
  new Chart(document.getElementById(id), {
    type: "bar",
    data: { labels: rows.map((r) => r.key), datasets: [{ label, data: rows.map(value), backgroundColor: "#2f5bd3" }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
window.usageCharts = [
  bar("chart-sessions-day", usage.byDay, (r) => r.sessions, "sessions"),
  bar("chart-tokens-day", usage.byDay, (r) => r.tokens, "tokens"),
  bar("chart-duration-day", usage.byDay, (r) => Math.round(r.duration_ms / 600) / 100, "minutes"),
  bar("chart-model", usage.byModel, (r) => r.sessions, "sessions"),
  new Chart(document.getElementById("chart-outcome"), {
    type: "doughnut",
    data: {
      labels: usage.byOutcome.map((r) => r.key),
      datasets: [{ data: usage.byOutcome.map((r) => r.sessions), backgroundColor: ["#1a7f37", "#c62828", "#a15c00", "#2f5bd3", "#667085", "#6e40c9"] }],
    },
    options: { animation: false },
  }),
  bar("chart-repo", usage.byRepo, (r) => r.sessions, "sessions"),
];
