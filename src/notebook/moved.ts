// Cells that moved to another lesson: issue 19 split lesson 12 (user-space) into 12, 13 (proc-and-devices) and 14
// (mmap-sharing). A learner's saved code (storage.ts) and an old share link name the cell where it was; these find
// it where it is now. The exercise cell of share-a-buffer had no id then (the 6th cell of lesson 12: cell-6).

export interface CellPlace {
  lesson: string;
  cell: string;
}

const MOVED: readonly [CellPlace, CellPlace][] = [
  [
    { lesson: "user-space", cell: "proc-and-dev" },
    { lesson: "proc-and-devices", cell: "proc-and-dev" },
  ],
  [
    { lesson: "user-space", cell: "mmap-share" },
    { lesson: "mmap-sharing", cell: "mmap-share" },
  ],
  [
    { lesson: "user-space", cell: "cell-6" },
    { lesson: "mmap-sharing", cell: "share-a-buffer" },
  ],
];

/** Where a cell named by its old place is now (undefined: it did not move). */
export function movedCell(lesson: string, cell: string): CellPlace | undefined {
  return MOVED.find(([from]) => from.lesson === lesson && from.cell === cell)?.[1];
}

/** Where a cell was before it moved (undefined: it did not move). */
export function formerPlace(lesson: string, cell: string): CellPlace | undefined {
  return MOVED.find(([, to]) => to.lesson === lesson && to.cell === cell)?.[0];
}
