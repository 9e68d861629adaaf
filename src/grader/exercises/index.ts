// Every exercise, by id: the one source of truth for the notebook (Check button), the CLI and the tests.
// Two are declared in the bundled lessons' Markdown as ```exercise blocks (src/lessons/exercises.ts, checks from the
// library in checks.ts with parameters): hello-module (lessons/01-first-module.md) and three-allocators
// (lessons/02-address-space.md). The rest stay TypeScript because a check computes what the declarative library
// cannot say: contiguous-16k (the freed order and every byte's value read from memory), object-cache (the cache's
// /proc/slabinfo row and its objects tied to that cache), big-buffer (zeroed, then read back before `ok`),
// atomic-alloc and pick-the-flags (allocations per callback and context, the button's IRQ), dma-buffer (the
// mapping's handle against the device's mask, map/unmap pairing), find-the-hole (the largest size the search
// found, checked against the kernel's free hole), fix-the-bugs (the sum of the bytes read back), share-a-buffer,
// touch-to-allocate (the user process's faults and malloc's system calls), proc-hello (what the process's read() got)
// and stop-the-thread (kthread_stop's return value against the printed count).
// The lessons' text comes from Vite's import.meta.glob in every Vite build (the notebook, the built CLI, vitest)
// and from the files under tsx (npm run kmodlab, bench, fuzz), where import.meta.env is not defined.

import type { Exercise } from "../types.ts";
import { lessonExercises, lessonIdOf } from "../../lessons/exercises.ts";
import { contiguous16k } from "./contiguous-16k.ts";
import { objectCache } from "./object-cache.ts";
import { bigBuffer } from "./big-buffer.ts";
import { atomicAlloc } from "./atomic-alloc.ts";
import { pickTheFlags } from "./pick-the-flags.ts";
import { dmaBuffer } from "./dma-buffer.ts";
import { findTheHole } from "./find-the-hole.ts";
import { fixTheBugs } from "./fix-the-bugs.ts";
import { shareABuffer } from "./share-a-buffer.ts";
import { touchToAllocate } from "./touch-to-allocate.ts";
import { procHello } from "./proc-hello.ts";
import { stopTheThread } from "./stop-the-thread.ts";

/** lessons/*.md of the package, by path ("lessons/01-first-module.md"). */
function bundledLessons(): Record<string, string> {
  if (import.meta.env) {
    const raw = import.meta.glob("../../../lessons/*.md", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
    return Object.fromEntries(Object.entries(raw).map(([p, s]) => [p.replace(/^(\.\.\/)+/, ""), s]));
  }
  // eslint-disable-next-line no-restricted-globals -- Node only: the browser build took the import.meta.glob branch
  const get = (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule;
  const fs = get("node:fs") as typeof import("node:fs");
  const url = get("node:url") as typeof import("node:url");
  const dir = url.fileURLToPath(new URL("../../../lessons/", import.meta.url));
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => /^\d+-.*\.md$/.test(f))
      .map((f) => [`lessons/${f}`, fs.readFileSync(dir + f, "utf8")]),
  );
}

const LESSONS = Object.entries(bundledLessons()).sort(([a], [b]) => a.localeCompare(b));
const LESSON_ORDER = new Map(LESSONS.map(([path, src], i) => [lessonIdOf(src, path), i]));
const DECLARED = LESSONS.flatMap(([path, src]) => lessonExercises(src, path, lessonIdOf(src, path)));

const TYPESCRIPT: Exercise[] = [
  contiguous16k,
  objectCache,
  bigBuffer,
  atomicAlloc,
  pickTheFlags,
  dmaBuffer,
  findTheHole,
  fixTheBugs,
  shareABuffer,
  touchToAllocate,
  procHello,
  stopTheThread,
];

/** Declared and TypeScript exercises in the order of their lessons (a stable sort keeps each lesson's own order). */
export const EXERCISES: readonly Exercise[] = [...DECLARED, ...TYPESCRIPT].sort(
  (a, b) => (LESSON_ORDER.get(a.lesson) ?? LESSONS.length) - (LESSON_ORDER.get(b.lesson) ?? LESSONS.length),
);

export function getExercise(id: string): Exercise | undefined {
  return EXERCISES.find((e) => e.id === id);
}
