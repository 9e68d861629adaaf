// Cells that moved when lesson 12 was split (src/notebook/moved.ts): the code a learner saved under the old lesson
// and a share link made before the move find the cell in its new lesson, and each moved cell exists there.
import { describe, expect, it } from "vitest";
import { formerPlace, movedCell } from "../../src/notebook/moved.ts";
import { NotebookStore } from "../../src/notebook/storage.ts";
import { MemKV } from "./mem-kv.ts";
import { loadLessons } from "../../src/lessons/load.ts";

describe("cells moved out of lesson 12", () => {
  it("an old share link's lesson and cell map to where the cell is now; a cell that did not move maps to nothing", () => {
    expect(movedCell("user-space", "proc-and-dev")).toEqual({ lesson: "proc-and-devices", cell: "proc-and-dev" });
    expect(movedCell("user-space", "mmap-share")).toEqual({ lesson: "mmap-sharing", cell: "mmap-share" });
    expect(movedCell("user-space", "cell-6")).toEqual({ lesson: "mmap-sharing", cell: "share-a-buffer" });
    expect(movedCell("user-space", "segfault")).toBeUndefined();
    expect(formerPlace("mmap-sharing", "share-a-buffer")).toEqual({ lesson: "user-space", cell: "cell-6" });
  });

  it("every moved cell exists in its new lesson, and no longer in the old one", () => {
    const lessons = loadLessons();
    for (const old of [
      { lesson: "user-space", cell: "proc-and-dev" },
      { lesson: "user-space", cell: "mmap-share" },
      { lesson: "user-space", cell: "cell-6" },
    ]) {
      const now = movedCell(old.lesson, old.cell)!;
      expect(
        lessons.find((l) => l.meta.id === now.lesson)?.cells.some((c) => c.id === now.cell),
        `${now.lesson}/${now.cell}`,
      ).toBe(true);
      expect(lessons.find((l) => l.meta.id === old.lesson)?.cells.some((c) => c.id === old.cell)).toBe(false);
    }
  });

  it("code saved under the old lesson shows in the cell's new lesson; code saved there since wins", () => {
    const kv = new MemKV();
    new NotebookStore(kv).saveCell("user-space", "mmap-share", "orig", "my old edit");
    const store = new NotebookStore(kv);
    expect(store.cellState("mmap-sharing", "mmap-share", "orig")).toMatchObject({ kind: "edited", code: "my old edit" });
    store.saveCell("mmap-sharing", "mmap-share", "orig", "newer");
    expect(new NotebookStore(kv).cellState("mmap-sharing", "mmap-share", "orig")).toMatchObject({ kind: "edited", code: "newer" });
    expect(new NotebookStore(kv).cellState("mmap-sharing", "other-cell", "orig")).toMatchObject({ kind: "original" });
  });
});
