// Rows of "sim": the simulated board and the run's controls, clearly not kernel API. Each wires to a kernel
// subsystem when the kernel has it; when it does not, calling it is an Error naming the missing feature
// (never a silent no-op).

import type { ApiEntry, FunctionEntry } from "../table.ts";
import { p } from "../table.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";
import { handles } from "./handles.ts";

/** The optional kernel parts sim drives (added by the contexts/IRQ/DMA part). */
interface SimHooks {
  irq?: { raise(irq: number): void };
  events?: { runUntil(until: number): unknown };
  scheduleIrq?: (atNs: number, irq: number) => unknown;
  board?: { buttonIrq: number; dmaDevice?: () => object };
}
const hooks = (k: Kernel) => k as unknown as SimHooks;

const noIrq = (k: Kernel) =>
  hooks(k).irq && hooks(k).scheduleIrq ? undefined : "interrupts are not simulated by this kernel yet (no IRQ subsystem: src/kernel/kernel/irq.ts)";

const fn = (e: Omit<FunctionEntry, "kind" | "module">): FunctionEntry => ({ kind: "function", module: "sim", ...e });

export const SIM_ROWS: ApiEntry[] = [
  {
    kind: "constant",
    module: "sim",
    name: "BUTTON_IRQ",
    type: "number",
    // The board's push button line; until the IRQ part defines boards, the lesson boards' line 1 (the i8042's).
    value: (k) => hooks(k).board?.buttonIrq ?? 1,
    doc: "The interrupt line of the board's push button. Pass it to request_irq(), and press the button with raise_irq().",
  },
  fn({
    name: "raise_irq",
    params: [p("irq", "uint")],
    returns: "void",
    context: "the simulation: the interrupt is delivered now, interrupting whatever runs",
    doc: "Raise interrupt line irq now, as the device would.",
    missing: noIrq,
    impl: (c, irq: number) => hooks(c.k).irq!.raise(irq),
  }),
  fn({
    name: "raise_irq_at",
    params: [p("ms", "uint", "simulated milliseconds from now"), p("irq", "uint")],
    returns: "void",
    context: "the simulation",
    doc: "Raise interrupt line irq when ms simulated milliseconds have passed (while the module sleeps, or during the drain after init).",
    missing: noIrq,
    impl: (c, ms: number, irq: number) => {
      hooks(c.k).scheduleIrq!(c.k.clock.now() + ms * 1e6, irq);
    },
  }),
  fn({
    name: "advance",
    params: [p("ms", "uint")],
    returns: "void",
    context: "the simulation: time passes as if the CPU idled (timers and interrupts due meanwhile run)",
    doc: "Let ms milliseconds of simulated time pass, running every event that falls due.",
    impl: (c, ms: number) => {
      const until = c.k.clock.now() + ms * 1e6;
      hooks(c.k).events?.runUntil(until);
      c.k.clock.setAtLeast(until);
    },
  }),
  fn({
    name: "dma_device",
    memory: { none: "the board's device, owned by the kernel" },
    params: [],
    returns: "handle:device",
    context: "any",
    doc: "The board's DMA-capable device (struct device *), with its DMA mask, for dma_alloc_coherent() and dma_map_single().",
    missing: (k) => (hooks(k).board?.dmaDevice ? undefined : "DMA is not simulated by this kernel yet (no DMA part: src/kernel/kernel/dma.ts)"),
    // The same handle every call: the kernel has one device object, and the module compares what it gets.
    impl: (c) => handles(c.k).idOf("device", hooks(c.k).board!.dmaDevice!()),
  }),
  {
    kind: "class",
    module: "linux",
    name: "device",
    madeWith: 'dma_device() from "sim"',
    doc: "struct device: a device the kernel knows (here only the board's DMA device).",
  },
];
