// The page's entry point, kept tiny: it starts the run worker before anything else, so that the worker loads QuickJS
// and the kernel code while the page parses and renders the notebook (main.ts, a chunk of its own that index.html
// modulepreloads, so it downloads meanwhile). A Run clicked the moment the lesson is readable then waits for what is
// left of the worker's loading, not for all of it (issue 17: first Run when clicked at once).

import "./styles.css";
import { Runner } from "./runner.ts";

export const runner = new Runner(() => new Worker(new URL("./run.worker.ts", import.meta.url), { type: "module", name: "kmodlab-run" }));
runner.start();

void import("./main.ts");
