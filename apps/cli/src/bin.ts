import { main } from "./main.js";

// `sessionvault cat ID | head`: a closed pipe ends the output quietly.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Exit once the output is out instead of when the event loop drains: after
  // a command that walked a big home, a draining process first waits for
  // V8's background garbage collection to finish (~15 ms of a 0.2 s sync).
  // Each write's callback comes after the writes queued before it.
  process.stdout.write("", () => process.stderr.write("", () => process.exit()));
});
