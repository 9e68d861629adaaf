// Models kernel/irq/manage.c (request_irq, request_threaded_irq, free_irq) and kernel/irq/handle.c (__handle_irq_event_percpu) of Linux 6.1 (same API in 2.6.32 and 3.4), plus the simulated board's interrupt sources.
//
// Each profile's board has a push-button wired to an interrupt line (BUTTON_IRQ): IRQ 5 on the x86 PC boards (a
// free ISA line of the PIIX PIC in QEMU's pc machine), IRQ 40 on the ARM boards (a GIC SPI as the virt machine
// numbers them); the number is the simulator's choice, not a real device's. `raise_irq(irq)` fires a line now
// (the handler interrupts whatever runs, or waits for local_irq_enable() when interrupts are off) and
// `raise_irq(irq, atMs)` at a simulated time; `press_button()` is raise_irq(BUTTON_IRQ).
// Handlers run in hardirq context with interrupts off: handler(irq, dev_id) returns IRQ_NONE (0), IRQ_HANDLED (1)
// or IRQ_WAKE_THREAD (2); a threaded handler (request_threaded_irq) then runs in process context as irq/N-name.
// request_irq on a line already requested without IRQF_SHARED on both sides returns -EBUSY; an unknown line -EINVAL.
// free_irq of a line/dev_id that is not requested prints the kernel's WARN text "Trying to free already-free IRQ %d".
// Simplifications: no irq domains, no affinity, no spurious-interrupt accounting ("nobody cared" after 99,900 of
// 100,000 unhandled is not modelled); an interrupt raised while interrupts are off is remembered once (a level).

import type { Kernel } from "../kernel.ts";
import { kernLevels } from "./printk.ts";
import { rebindable } from "../snapshot.ts";
import { detachedSlice } from "./vsprintf.ts";

export const IRQ_NONE = 0;
export const IRQ_HANDLED = 1;
export const IRQ_WAKE_THREAD = 2;
export const IRQF_SHARED = 0x80;
export const IRQF_ONESHOT = 0x2000;
export const IRQF_TRIGGER_RISING = 0x1;
export const IRQF_TRIGGER_FALLING = 0x2;
const EINVAL = 22;
const EBUSY = 16;

export type IrqHandler = (irq: number, devId: unknown) => unknown;

/** The simulated board's interrupt lines for an architecture: the button's line and NR_IRQS (valid lines 0..nr-1). */
export function boardIrqLines(arch: string): { button: number; nr: number } {
  const x86 = arch === "x86_64" || arch === "i386";
  return x86 ? { button: 5, nr: 24 } : { button: 40, nr: 64 };
}

export interface IrqAction {
  irq: number;
  handler: IrqHandler;
  thread?: IrqHandler;
  flags: number;
  name: string;
  devId: unknown;
}

export interface IrqStats {
  irq: number;
  count: number;
  handled: number;
  unhandled: number;
}

export class Irq {
  private readonly k: Kernel;
  readonly actions = new Map<number, IrqAction[]>();
  readonly stats = new Map<number, IrqStats>();
  /** Lines raised while interrupts were off. */
  private pending = new Set<number>();
  readonly BUTTON_IRQ: number;
  /** Valid line numbers: 0..NR_IRQS-1 of the simulated board. */
  readonly nrIrqs: number;

  constructor(k: Kernel) {
    this.k = k;
    const lines = boardIrqLines(k.profile.arch);
    this.BUTTON_IRQ = lines.button;
    this.nrIrqs = lines.nr;
    k.sched.runPendingHardirqs = rebindable(Irq.prototype.runPending, this); // rebound by a kernel snapshot (snapshot.ts)
  }

  request_irq(irq: number, handler: IrqHandler, flags: number, name: string, devId: unknown): number {
    return this.request_threaded_irq(irq, handler, undefined, flags, name, devId);
  }

  request_threaded_irq(irq: number, handler: IrqHandler | undefined, thread: IrqHandler | undefined, flags: number, name: string, devId: unknown): number {
    if (!Number.isInteger(irq) || irq < 0 || irq >= this.nrIrqs) return -EINVAL;
    if (!handler && !thread) return -EINVAL;
    if (flags & IRQF_SHARED && devId === undefined) return -EINVAL;
    const list = this.actions.get(irq) ?? [];
    if (list.length && (!(flags & IRQF_SHARED) || list.some((a) => !(a.flags & IRQF_SHARED)))) {
      // __setup_irq: "Flags mismatch irq %d. %08x (%s) vs. %08x (%s)" when one of them is not shared.
      const old = list[0];
      const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
      this.k.printk(
        kernLevels(this.k.profile).KERN_ERR + "genirq: Flags mismatch irq %d. %s (%s) vs. %s (%s)\n",
        irq,
        hex(flags),
        name,
        hex(old.flags),
        old.name,
      );
      return -EBUSY;
    }
    // A threaded irq without a primary handler gets irq_default_primary_handler (returns IRQ_WAKE_THREAD).
    list.push({ irq, handler: handler ?? (() => IRQ_WAKE_THREAD), thread, flags, name, devId });
    // The irqaction (kzalloc'ed in the kernel) is not allocated here; the devname the kernel points to is kept in the
    // host, charged to the RAM budget as the host memory it is (a shared line takes any number of actions: a loop of
    // request_irq with 4 Mi-character names held ~500 MB of the host in 2 s).
    this.k.physmem?.chargeMetadata(name.length);
    this.actions.set(irq, list);
    if (!this.stats.has(irq)) this.stats.set(irq, { irq, count: 0, handled: 0, unhandled: 0 });
    return 0;
  }

  /** free_irq(irq, dev_id): returns the devname, or undefined with the kernel's WARN when not requested. */
  free_irq(irq: number, devId: unknown): string | undefined {
    const list = this.actions.get(irq) ?? [];
    const i = list.findIndex((a) => a.devId === devId);
    if (i < 0) {
      const text = `Trying to free already-free IRQ ${irq}`;
      this.k.printk(kernLevels(this.k.profile).KERN_WARNING + "%s\n", text);
      this.k.report({ kind: "warn", title: text, text, frames: this.k.captureModuleStack().map((f) => ({ fn: f.fn, line: f.line })) });
      return undefined;
    }
    const [a] = list.splice(i, 1);
    if (!list.length) this.actions.delete(irq);
    return a.name;
  }

  /** Lines still requested (rmmod checks: a module that forgets free_irq leaves a handler pointing at freed code). */
  requested(): IrqAction[] {
    return [...this.actions.values()].flat();
  }

  /** Raise `irq` now (atMs undefined) or at simulated time atMs (ms since boot) — the sim module's raise_irq. */
  raise_irq(irq: number, atMs?: number): void {
    const loop = this.k.sched.loop;
    if (atMs === undefined) {
      if (this.k.sched.irqs_disabled()) {
        this.pending.add(irq);
        return;
      }
      this.handle(irq);
      return;
    }
    loop.schedule(atMs * 1e6, "irq", `irq ${irq}`, () => {
      if (this.k.sched.irqs_disabled()) this.pending.add(irq);
      else this.handle(irq);
    });
  }

  /** Raise irq `afterMs` from now. */
  raise_irq_after(irq: number, afterMs: number): void {
    this.raise_irq(irq, this.k.clock.now() / 1e6 + afterMs);
  }

  /** sim.raise_irq binding: raise now. */
  raise(irq: number): void {
    this.raise_irq(irq);
  }

  /** Raise irq at simulated time atNs (ns since boot). */
  scheduleAt(atNs: number, irq: number): void {
    this.raise_irq(irq, atNs / 1e6);
  }

  press_button(atMs?: number): void {
    this.raise_irq(this.BUTTON_IRQ, atMs);
  }

  private runPending(): void {
    const lines = [...this.pending];
    this.pending.clear();
    for (const irq of lines) this.handle(irq);
  }

  /** handle_irq -> __handle_irq_event_percpu: every action of the line, in hardirq context. */
  private handle(irq: number): void {
    const k = this.k;
    const s = k.sched;
    const st = this.stats.get(irq) ?? { irq, count: 0, handled: 0, unhandled: 0 };
    this.stats.set(irq, st);
    st.count++;
    const list = [...(this.actions.get(irq) ?? [])];
    if (!list.length) return; // no handler: the core acks it (spurious)
    const x86 = k.profile.arch === "x86_64" || k.profile.arch === "i386";
    const entry = x86
      ? ["__handle_irq_event_percpu", "handle_irq_event", "handle_edge_irq", "__common_interrupt", "common_interrupt"]
      : ["__handle_irq_event_percpu", "handle_irq_event", "handle_fasteoi_irq", "generic_handle_domain_irq", "gic_handle_irq"];
    const threads: IrqAction[] = [];
    let any = false;
    s.runHardirq(entry, () => {
      for (const a of list) {
        const r = Number(a.handler(irq, a.devId) ?? 0);
        if (r === IRQ_WAKE_THREAD && a.thread) threads.push(a);
        if (r !== IRQ_NONE) any = true;
        // WARN_ONCE(!irqs_disabled(), "irq %u handler %pS enabled interrupts\n"): re-disable as the kernel does.
        if (!s.irqs_disabled()) {
          const text = `irq ${irq} handler ${k.kallsyms.moduleFrame((a.handler as { name?: string }).name || "handler", s.moduleName())} enabled interrupts`;
          k.printk(kernLevels(k.profile).KERN_WARNING + "%s\n", text);
          k.report({ kind: "warn", title: text, text });
          s.local_irq_disable("__handle_irq_event_percpu");
        }
      }
    }, ["asm_common_interrupt"]);
    if (any) st.handled++;
    else st.unhandled++;
    for (const a of threads) {
      const task = { pid: 100 + irq, comm: detachedSlice(`irq/${irq}-${a.name}`, 0, 15) }; // a copy: a slice would keep the whole name alive
      s.runAsTask(task, ["irq_thread_fn", "irq_thread", "kthread", "ret_from_fork"], () => a.thread!(irq, a.devId));
    }
  }
}
