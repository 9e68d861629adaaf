// The ten exercises issue 14 asked for, in lesson order: the grader tests check each is listed and has variants.
export const FIRST_TEN_EXERCISES = [
  "hello-module",
  "three-allocators",
  "contiguous-16k",
  "object-cache",
  "big-buffer",
  "atomic-alloc",
  "pick-the-flags",
  "dma-buffer",
  "find-the-hole",
  "fix-the-bugs",
] as const;
