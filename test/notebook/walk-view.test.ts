// The walk view's DOM (src/notebook/views/walk.ts) on a real walk, in jsdom: addresses in text become buttons,
// the table has one row per level with the entry and its bits, the result line says where the walk ended.
import { beforeAll, describe, expect, it } from "vitest";
import { JSDOM } from "jsdom";
import { loadKernelDeps } from "../../sandbox/run.ts";
import { walkJson } from "../../src/kernel/mm/ptdump.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";

let linkAddresses: typeof import("../../src/notebook/views/walk.ts").linkAddresses;
let renderWalk: typeof import("../../src/notebook/views/walk.ts").renderWalk;
let k: Kernel;

beforeAll(async () => {
  const { window } = new JSDOM("");
  Object.assign(globalThis, { document: window.document });
  ({ linkAddresses, renderWalk } = await import("../../src/notebook/views/walk.ts"));
  k = (await loadKernelDeps()).boot("x86_64-6.1", {});
});

describe("walk view", () => {
  it("turns 8- and 16-digit hex numbers into address buttons and leaves the rest as text", () => {
    const picked: bigint[] = [];
    const parts = linkAddresses("pagemem addr=ffff888005340000 size 00000000 at 0xc0ffee00, pid 12345678x", (a) => picked.push(a));
    const buttons = parts.filter((p): p is HTMLElement => typeof p !== "string");
    expect(buttons.map((b) => b.textContent)).toEqual(["ffff888005340000", "0xc0ffee00"]);
    expect(parts.map((p) => (typeof p === "string" ? p : p.textContent)).join("")).toBe(
      "pagemem addr=ffff888005340000 size 00000000 at 0xc0ffee00, pid 12345678x",
    );
    buttons[0].click();
    buttons[1].click();
    expect(picked).toEqual([0xffff888005340000n, 0xc0ffee00n]);
    expect(linkAddresses("ffff888005340000", undefined)).toEqual(["ffff888005340000"]);
  });

  it("renders a direct-map walk: four rows down to the 2 MiB PMD page, the physical address and the frame", () => {
    const el = renderWalk(walkJson(k, k.layout.pageOffset + 0x1234567n));
    const rows = [...el.querySelectorAll(".walk-table tbody tr")];
    expect(rows.map((r) => r.querySelector("th")!.textContent)).toEqual(["PGD", "P4D", "PUD", "PMD"]);
    expect(rows[3].className).toContain("leaf");
    expect(rows[3].textContent).toMatch(/_PAGE_PSE/);
    expect(el.querySelector(".walk-result")!.textContent).toMatch(/physical 0x1234567 PFN 4660 .*2 MiB mapping/);
    expect([...el.querySelectorAll(".walk-field .wf-label")].map((f) => f.textContent)).toEqual([
      "sign extension bits 63–48",
      "PGD bits 47–39",
      "PUD bits 38–30",
      "PMD bits 29–21",
      "offset bits 20–0",
    ]);
  });

  it("renders an unmapped address: the row where the walk stops, and why", () => {
    const el = renderWalk(walkJson(k, 0x400000n));
    expect(el.querySelector(".walk-table tbody tr.absent th")!.textContent).toBe("PGD");
    expect(el.querySelector(".walk-result")!.textContent).toMatch(/not mapped: the walk stops at the PGD/);
    expect(el.querySelector(".walk-note")!.textContent).toMatch(/user-space address/);
  });
});
