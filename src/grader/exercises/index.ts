// Every exercise, by id: the one source of truth for the notebook (Check button), the CLI and the tests.

import type { Exercise } from "../types.ts";
import { helloModule } from "./hello-module.ts";
import { threeAllocators } from "./three-allocators.ts";
import { contiguous16k } from "./contiguous-16k.ts";
import { objectCache } from "./object-cache.ts";
import { bigBuffer } from "./big-buffer.ts";
import { atomicAlloc } from "./atomic-alloc.ts";
import { pickTheFlags } from "./pick-the-flags.ts";
import { dmaBuffer } from "./dma-buffer.ts";
import { findTheHole } from "./find-the-hole.ts";
import { fixTheBugs } from "./fix-the-bugs.ts";
import { shareABuffer } from "./share-a-buffer.ts";

export const EXERCISES: readonly Exercise[] = [
  helloModule,
  threeAllocators,
  contiguous16k,
  objectCache,
  bigBuffer,
  atomicAlloc,
  pickTheFlags,
  dmaBuffer,
  findTheHole,
  fixTheBugs,
  shareABuffer,
];

export function getExercise(id: string): Exercise | undefined {
  return EXERCISES.find((e) => e.id === id);
}
