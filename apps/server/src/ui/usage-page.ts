import type { Usage } from "@sessionvault/core";
import { html, SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import { formatDuration } from "./list-page.js";

export interface UsagePageInput {
  org: string;
  admin: boolean;
  csrf: string;
  usage: Usage;
}

/** Totals, and the data the charts (drawn by Chart.js in usage.js) are made from, as inert JSON. */
export function usagePage(input: UsagePageInput): string {
  const { totals } = input.usage;
  // JSON in a non-executable script block: "<" is escaped so no session text can close the block.
  const data = JSON.stringify(input.usage).replace(/</g, "\\u003c");
  const body = html`<section class="usage">
  <h1>Usage</h1>
  <dl class="facts totals">
    <div><dt>Sessions</dt><dd id="total-sessions">${totals.sessions}</dd></div>
    <div><dt>Tokens in</dt><dd id="total-tokens-in">${totals.tokens_input.toLocaleString("en")}</dd></div>
    <div><dt>Tokens out</dt><dd id="total-tokens-out">${totals.tokens_output.toLocaleString("en")}</dd></div>
    <div><dt>Wall time</dt><dd id="total-duration">${formatDuration(totals.duration_ms)}</dd></div>
    <div><dt>Files changed</dt><dd id="total-files">${totals.files_changed}</dd></div>
  </dl>
  <div class="charts">
    <figure><figcaption>Sessions per day</figcaption><canvas id="chart-sessions-day"></canvas></figure>
    <figure><figcaption>Tokens per day</figcaption><canvas id="chart-tokens-day"></canvas></figure>
    <figure><figcaption>Wall time per day (minutes)</figcaption><canvas id="chart-duration-day"></canvas></figure>
    <figure><figcaption>Sessions by model</figcaption><canvas id="chart-model"></canvas></figure>
    <figure><figcaption>Sessions by outcome</figcaption><canvas id="chart-outcome"></canvas></figure>
    <figure><figcaption>Sessions by repository</figcaption><canvas id="chart-repo"></canvas></figure>
  </div>
  <script type="application/json" id="usage-data">${new SafeHtml(data)}</script>
</section>`;
  return layout("Usage", body, { org: input.org, admin: input.admin, csrf: input.csrf, scripts: ["/assets/chart.umd.js", "/assets/usage.js"] });
}
