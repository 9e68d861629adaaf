// Rows: interrupts (include/linux/interrupt.h, kernel/irq/manage.c) over k.irq. The handler runs in hardirq context
// with interrupts off: handler(irq, dev_id) returns IRQ_HANDLED (or IRQ_NONE when its device did not interrupt).
// dev_id is any module value; free_irq finds the handler by the same value (the same object, as C compares pointers).
// The board's lines are in "sim" (BUTTON_IRQ) and so is raising one (raise_irq, raise_irq_at).

import type { ApiEntry, Cookie, HostCallback } from "../table.ts";
import { fn, p } from "../table.ts";
import { named } from "./handles.ts";
import { IRQ_HANDLED, IRQ_NONE, IRQ_WAKE_THREAD, IRQF_ONESHOT, IRQF_SHARED, IRQF_TRIGGER_FALLING, IRQF_TRIGGER_RISING } from "../../src/kernel/kernel/irq.ts";

const k_ = (name: string, value: number, doc: string): ApiEntry => ({ kind: "constant", module: "linux", name, type: "number", value: () => value, doc });
const HANDLER = {
  params: [
    { name: "irq", type: "int" as const },
    { name: "dev_id", type: "cookie" as const },
  ],
  returns: "int" as const,
};
const handler = (cb: HostCallback) => named(cb, (irq: number, dev: unknown) => [irq, dev]);

export const IRQ_ROWS: ApiEntry[] = [
  k_("IRQ_NONE", IRQ_NONE, "A handler's return: the interrupt was not from this device."),
  k_("IRQ_HANDLED", IRQ_HANDLED, "A handler's return: the interrupt was handled."),
  k_("IRQ_WAKE_THREAD", IRQ_WAKE_THREAD, "A primary handler's return: run the threaded handler (request_threaded_irq)."),
  k_("IRQF_SHARED", IRQF_SHARED, "request_irq flag: the line may be shared; dev_id must then be given and unique."),
  k_("IRQF_ONESHOT", IRQF_ONESHOT, "request_threaded_irq flag: keep the line masked until the thread has run."),
  k_("IRQF_TRIGGER_RISING", IRQF_TRIGGER_RISING, "request_irq flag: trigger on the rising edge."),
  k_("IRQF_TRIGGER_FALLING", IRQF_TRIGGER_FALLING, "request_irq flag: trigger on the falling edge."),
  fn({
    name: "request_irq",
    params: [
      p("irq", "uint", "the interrupt line (sim's BUTTON_IRQ)"),
      p("handler", "fn", "runs in hardirq context, interrupts off: must not sleep; returns IRQ_HANDLED or IRQ_NONE", HANDLER),
      p("flags", "uint", "IRQF_* flags; 0"),
      p("name", "string", "shown in /proc/interrupts"),
      p("dev_id", "cookie", "any value: handed to the handler, and given again to free_irq"),
    ],
    returns: "int",
    context: "may sleep (process context)",
    doc: "Install handler on line irq: 0, or -EBUSY (taken and not shared on both sides), -EINVAL (no such line; IRQF_SHARED without dev_id). Free it with free_irq(irq, dev_id) in module_exit.",
    impl: (c, irq: number, cb: HostCallback, flags: number, name: string, dev: Cookie | undefined) => c.k.irq.request_irq(irq, handler(cb), flags, name, dev),
  }),
  fn({
    name: "request_threaded_irq",
    params: [
      p("irq", "uint"),
      p("handler", "fn", "the primary handler (hardirq context): IRQ_WAKE_THREAD to run thread_fn", HANDLER),
      p("thread_fn", "fn", "runs in its own kernel thread (process context: it may sleep)", HANDLER),
      p("flags", "uint"),
      p("name", "string"),
      p("dev_id", "cookie"),
    ],
    returns: "int",
    context: "may sleep (process context)",
    doc: "request_irq with a threaded handler: the primary handler returns IRQ_WAKE_THREAD and thread_fn runs as irq/N-name.",
    impl: (c, irq: number, h: HostCallback, t: HostCallback, flags: number, name: string, dev: Cookie | undefined) =>
      c.k.irq.request_threaded_irq(irq, handler(h), handler(t), flags, name, dev),
  }),
  fn({
    name: "free_irq",
    memory: { none: "releases an interrupt line, not memory" },
    params: [p("irq", "uint"), p("dev_id", "cookie", "the value given to request_irq")],
    returns: "void",
    context: "may sleep (process context; it waits for a running handler)",
    doc: 'Remove the handler that request_irq(irq, ..., dev_id) installed. Freeing one that is not installed is the kernel\'s WARN "Trying to free already-free IRQ".',
    impl: (c, irq: number, dev: Cookie | undefined) => void c.k.irq.free_irq(irq, dev),
  }),
];
