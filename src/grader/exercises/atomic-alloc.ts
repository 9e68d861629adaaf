// Exercise atomic-alloc: allocate in a hard interrupt handler, where sleeping is forbidden. The grader presses the
// board's button three times (RunSettings.events); `kmodlab run` does not, a cell presses it with sim.raise_irq_at.
// Failure paths: the handler's allocations are not module_init's, so the failslab attribute fails the Nth one.

import type { Exercise } from "../types.ts";
import {
  check,
  CONTEXT_WORDS,
  describeAlloc,
  fail,
  freedBeforeUnload,
  gfpName,
  isOutcome,
  loads,
  mayBlock,
  noReports,
  nothingLeaked,
  ok,
  records,
  survivesFaultInjection,
} from "../checks.ts";
import { callsOf, callsTo, toNum } from "../records.ts";
import { buttonIrq } from "../grade.ts";

export const atomicAlloc: Exercise = {
  id: "atomic-alloc",
  title: "Memory in an interrupt handler",
  lesson: "gfp-contexts",
  settings: {
    profile: "x86_64-6.1",
    events: [
      { atMs: 10, irq: "button" },
      { atMs: 20, irq: "button" },
      { atMs: 30, irq: "button" },
    ],
  },
  statement: `Register a handler for the board's button interrupt (\`BUTTON_IRQ\` from "sim") with \`request_irq\`. The
grader presses the button three times, 10, 20 and 30 ms after your module loads; do not raise the interrupt yourself
(remove any \`raise_irq\` you tried the handler with). Each time, allocate 256 bytes in the handler, in hard interrupt
context, with flags that cannot sleep, and keep them. If an allocation fails, keep nothing for that press. On unload,
free the interrupt first (\`free_irq\`), then every allocation: until \`free_irq\` returns the handler can still run and
take another buffer, or use one you are freeing.`,
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
    check(
      "irq-requested",
      "The handler is registered for the button's interrupt line",
      'request_irq(BUTTON_IRQ, handler, 0, "name", dev) in init; it returns 0 on success.',
      (c) => {
        const irq = buttonIrq(c.exercise.settings.profile);
        const r = callsTo(c.result, "request_irq").filter((x) => toNum(x.args[0]) === irq);
        if (!r.length) return fail(`request_irq was never called for IRQ ${irq} (the button)`);
        if (!r.some((x) => x.ret === 0)) return fail(`request_irq(${irq}, ...) returned ${r[0].ret}`);
        return ok();
      },
    ),
    check(
      "atomic-allocs",
      "Three 256-byte allocations in hard interrupt context, one per press, with a GFP that does not sleep",
      "An interrupt handler must not sleep: kmalloc(256, GFP_ATOMIC) there, never GFP_KERNEL, never vmalloc.",
      (c) => {
        const r = records(c);
        if (isOutcome(r)) return r;
        // The presses are the grader's: a module that raises the line itself allocates when it likes, not per press.
        const raised = [...callsTo(c.result, "raise_irq"), ...callsTo(c.result, "raise_irq_at")][0];
        if (raised)
          return fail(
            `the module raised the interrupt itself (${raised.fn}${raised.line !== undefined ? ` at line ${raised.line}` : ""}): the grader presses the button three times itself, 10, 20 and 30 ms after load, and expects one allocation per press: remove the raise_irq/raise_irq_at you tried the handler with`,
          );
        const inIrq = r.allocs.filter((a) => a.context === "hardirq");
        const failed = r.failed.filter((f) => f.call.ctx?.hardirq);
        // Whatever the handler allocated with, it must be something that cannot sleep: vmalloc and GFP_KERNEL can.
        const sleepy = inIrq.find((a) => a.family === "vmalloc" || mayBlock(c, a));
        if (sleepy)
          return fail(
            `the handler allocated ${describeAlloc(sleepy)} ${sleepy.family === "vmalloc" ? "with vmalloc, which maps pages and may sleep" : `with ${gfpName(c, sleepy.gfp)}, which may sleep`}: not allowed in hard interrupt context`,
          );
        if (!inIrq.length && !failed.length) {
          // What the records show instead: a report raised inside the handler, or the allocations made elsewhere.
          const handler = callsTo(c.result, "request_irq")
            .map((x) => x.args[1])
            .find((x): x is string => typeof x === "string" && x !== "(anonymous)");
          const rep = handler ? c.result.reports.find((x) => x.frames?.some((f) => f.fn === handler)) : undefined;
          if (rep)
            return fail(
              `in the handler (${handler}), the kernel reported [${rep.kind}] ${rep.title}${rep.line ? ` (line ${rep.line})` : ""}, and no allocation there succeeded`,
            );
          const elsewhere = r.allocs.map((a) => `${describeAlloc(a)} in ${CONTEXT_WORDS[a.context]} (${a.phase})`);
          return fail(
            `no allocation was made in hard interrupt context${elsewhere.length ? ` (the module's allocations: ${elsewhere.slice(0, 3).join(", ")})` : " (the module allocated nothing)"}`,
          );
        }
        const sized = inIrq.filter((a) => a.size === 256);
        if (sized.length + failed.length !== 3 || sized.length === 0)
          return fail(
            `${sized.length} allocation${sized.length === 1 ? "" : "s"} of 256 bytes in the handler, expected 3 (one per press)${inIrq.length !== sized.length ? `; sizes seen: ${inIrq.map((a) => a.size).join(", ")}` : ""}`,
          );
        const early = sized.map(freedBeforeUnload).find(Boolean); // "... and keep them"
        if (early) return fail(early);
        return ok(`${sized.length} × ${sized[0].fn}(256, ${gfpName(c, sized[0].gfp)})`);
      },
      1,
      { requires: ["256", "three", "cannot sleep", "hard interrupt"] },
    ),
    check(
      "no-sleep-in-atomic",
      'No "sleeping function called from invalid context"',
      "The kernel caught an allocation that may sleep in atomic context: use GFP_ATOMIC there.",
      (c) => {
        const r = c.result.reports.find((x) => x.kind === "sleep-in-atomic" || x.kind === "scheduling-while-atomic");
        return r ? fail(r.title) : ok();
      },
    ),
    check(
      "irq-freed",
      "The interrupt is freed on unload, before the handler's buffers",
      "Call free_irq(BUTTON_IRQ, dev) first in the exit function, with the same dev you passed to request_irq, then kfree the buffers.",
      (c) => {
        const irq = buttonIrq(c.exercise.settings.profile);
        const frees = callsTo(c.result, "free_irq").filter((x) => toNum(x.args[0]) === irq && x.phase === "exit");
        if (!frees.length) return fail("free_irq was not called for the button's IRQ on unload");
        // free_irq finds the handler by its dev_id: another one leaves it installed ("Trying to free already-free IRQ").
        const devs = callsTo(c.result, "request_irq")
          .filter((x) => toNum(x.args[0]) === irq && x.ret === 0)
          .map((x) => JSON.stringify(x.args[4]));
        const freed = frees.find((x) => devs.includes(JSON.stringify(x.args[1])));
        if (!freed)
          return fail("free_irq was given another dev_id than request_irq: the handler stays installed (the kernel warns: Trying to free already-free IRQ)");
        // The order: a buffer the handler took, freed on unload before free_irq. The grader's presses come long before
        // unload, so nothing shows in the run; on a real machine a press between the two takes a buffer nobody frees
        // (or the handler uses one being freed, on another CPU): free_irq waits for a running handler, then none runs.
        const r = records(c);
        if (isOutcome(r)) return r;
        const at = (callsOf(c.result) ?? []).indexOf(freed);
        const early = r.allocs.find((a) => a.context === "hardirq" && a.free?.call.phase === "exit" && a.free.index < at);
        if (early)
          return fail(
            `${describeAlloc(early)}, taken in the handler, was freed with ${early.free!.fn}${early.free!.line !== undefined ? ` at line ${early.free!.line}` : ""} before free_irq${freed.line !== undefined ? ` (line ${freed.line})` : ""}: until free_irq returns the handler can still run and take another buffer, or use one being freed; free the interrupt first`,
          );
        return ok();
      },
      1,
      { requires: ["free_irq", "first"] },
    ),
    nothingLeaked(),
    survivesFaultInjection({ initMayLoad: true }),
    noReports(),
  ],
};
