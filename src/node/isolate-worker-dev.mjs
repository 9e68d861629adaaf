// Development entry of the isolated run worker: the CLI runs from TypeScript sources under tsx, and a
// worker_threads Worker does not inherit the parent's loader, so this registers tsx's loader in the worker and
// imports the TypeScript body (workerData.entry, isolate-worker.ts). A bundled CLI does not use this file.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
