import { packageConfig } from "../../vitest.shared.ts";

// The server's tests drive real server processes and Chromium: on a loaded 2-core machine
// (load average ~20) the browser and two-process tests ran past 30 s, so the bound is wider.
export default packageConfig({ services: ["postgres", "s3"], testTimeout: 120_000 });
