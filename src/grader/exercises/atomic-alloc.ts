// Exercise atomic-alloc: allocate in a hard interrupt handler, where sleeping is forbidden.

import type { Exercise } from "../types.ts";
import { check, fail, findAlloc, gfpName, isOutcome, loads, mayBlock, noReports, nothingLeaked, ok } from "../checks.ts";
import { callsTo, toNum } from "../records.ts";
import { buttonIrq } from "../grade.ts";

export const atomicAlloc: Exercise = {
  id: "atomic-alloc",
  title: "Memory in an interrupt handler",
  lesson: "gfp-contexts",
  settings: { profile: "x86_64-6.1", events: [{ atMs: 10, irq: "button" }, { atMs: 20, irq: "button" }, { atMs: 30, irq: "button" }] },
  statement: `Register a handler for the board's button interrupt (\`BUTTON_IRQ\` from "sim"). The grader presses the
button three times after your module loads. Each time, allocate 256 bytes in the handler and keep them. On unload,
free every allocation and the interrupt.`,
  starter: `import { request_irq, free_irq, kmalloc, kfree, GFP_KERNEL, IRQ_HANDLED,
         MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const kept: bigint[] = [];
const dev = { name: "button" };

function button_handler(irq: number, dev_id: unknown): number {
  kept.push(kmalloc(256, GFP_KERNEL));
  return IRQ_HANDLED;
}

function atomic_init(): number {
  return request_irq(BUTTON_IRQ, button_handler, 0, "kmodlab-button", dev);
}

function atomic_exit(): void {
  // TODO: give back the interrupt and the memory
}

module_init(atomic_init);
module_exit(atomic_exit);
`,
  solution: `import { request_irq, free_irq, kmalloc, kfree, GFP_ATOMIC, IRQ_HANDLED,
         MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const kept: bigint[] = [];
const dev = { name: "button" };

function button_handler(irq: number, dev_id: unknown): number {
  const p = kmalloc(256, GFP_ATOMIC); // hard interrupt context: must not sleep
  if (p !== 0n) kept.push(p);
  return IRQ_HANDLED;
}

function atomic_init(): number {
  return request_irq(BUTTON_IRQ, button_handler, 0, "kmodlab-button", dev);
}

function atomic_exit(): void {
  free_irq(BUTTON_IRQ, dev);
  for (const p of kept) kfree(p);
}

module_init(atomic_init);
module_exit(atomic_exit);
`,
  checks: [
    loads(),
    check("irq-requested", "The handler is registered for the button's interrupt line", "request_irq(BUTTON_IRQ, handler, 0, \"name\", dev) in init; it returns 0 on success.", (c) => {
      const irq = buttonIrq(c.exercise.settings.profile);
      const r = callsTo(c.result, "request_irq").filter((x) => toNum(x.args[0]) === irq);
      if (!r.length) return fail(`request_irq was never called for IRQ ${irq} (the button)`);
      if (!r.some((x) => x.ret === 0)) return fail(`request_irq(${irq}, ...) returned ${r[0].ret}`);
      return ok();
    }),
    check("atomic-allocs", "Three 256-byte allocations in hard interrupt context, with a GFP that does not sleep", "An interrupt handler must not sleep: use GFP_ATOMIC, never GFP_KERNEL, inside it.", (c) => {
      const as = findAlloc(c, ["kmalloc", "kzalloc", "kmalloc_array", "kcalloc"], (a) => a.call.ctx?.hardirq === true);
      if (isOutcome(as)) return as;
      if (!as.length) return fail("no allocation was made in hard interrupt context (is the handler registered and allocating?)");
      const sized = as.filter((a) => a.size === 256);
      if (sized.length !== 3) return fail(`${sized.length} allocations of 256 bytes in the handler, expected 3 (one per press)${as.length !== sized.length ? `; sizes seen: ${as.map((a) => a.size).join(", ")}` : ""}`);
      const sleepy = sized.filter((a) => mayBlock(c, a));
      if (sleepy.length) return fail(`allocated with ${gfpName(c, sleepy[0].gfp)} in the interrupt handler: that may sleep`);
      return ok();
    }),
    check("no-sleep-in-atomic", "No \"sleeping function called from invalid context\"", "The kernel caught an allocation that may sleep in atomic context: use GFP_ATOMIC there.", (c) => {
      const r = c.result.reports.find((x) => x.kind === "sleep-in-atomic" || x.kind === "scheduling-while-atomic");
      return r ? fail(r.title) : ok();
    }),
    check("irq-freed", "The interrupt is freed on unload", "Call free_irq(BUTTON_IRQ, dev) in the exit function, with the same dev you passed to request_irq.", (c) => {
      const irq = buttonIrq(c.exercise.settings.profile);
      return callsTo(c.result, "free_irq").some((x) => toNum(x.args[0]) === irq && x.phase === "exit") ? ok() : fail("free_irq was not called for the button's IRQ on unload");
    }),
    nothingLeaked(),
    noReports(),
  ],
};
