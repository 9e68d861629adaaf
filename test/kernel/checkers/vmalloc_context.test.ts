import { describe, expect, it } from "vitest";
import { harness } from "../sched/harness.ts";

describe("vmalloc and vfree in interrupt context", () => {
  it("6.1: vmalloc in an irq handler hits BUG_ON(in_interrupt()) in __get_vm_area_node", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("init", 1, () => {
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn", 8, () => {
            try {
              k.vmalloc.vmalloc(4096);
            } catch (e) {
              expect((e as { killTask?: boolean }).killTask ?? true).toBe(true);
            }
            return 1;
          }),
          0,
          "btn",
          1,
        );
        k.irq.raise_irq(k.irq.BUTTON_IRQ, 3);
      }),
    );
    k.runDeferred({});
    const r = k.reports.find((r) => r.title.startsWith("kernel BUG at mm/vmalloc.c:"));
    expect(r).toBeDefined();
    expect(k.taint.has("D")).toBe(true);
  });

  it("6.1: vfree in an irq handler is deferred to a work item (kworker) and the area is gone after", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    let v = 0n;
    h.insmod(() =>
      h.call("init", 1, () => {
        v = k.vmalloc.vmalloc(8192);
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn", 8, () => (k.vmalloc.vfree(v), 1)),
          0,
          "btn",
          1,
        );
        k.irq.raise_irq(k.irq.BUTTON_IRQ, 3);
      }),
    );
    k.runDeferred({});
    expect(k.reports).toEqual([]);
    expect(k.sched.loop.history.map((e) => e.kind)).toEqual(["irq", "work"]);
    expect(k.vmalloc.areas().some((a) => a.start === v && a.state === "busy")).toBe(false);
  });

  it("3.4 (before 3.10): vfree in an irq handler is a BUG", () => {
    const h = harness("arm-3.4-msm8x25", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("init", 1, () => {
        const v = k.vmalloc.vmalloc(8192);
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn", 8, () => {
            try {
              k.vmalloc.vfree(v);
            } catch {
              /* the Oops ends the handler */
            }
            return 1;
          }),
          0,
          "btn",
          1,
        );
        k.irq.raise_irq(k.irq.BUTTON_IRQ, 3);
      }),
    );
    k.runDeferred({});
    expect(k.reports.some((r) => r.title.startsWith("kernel BUG at mm/vmalloc.c:"))).toBe(true);
  });
});
