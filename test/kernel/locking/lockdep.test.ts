import { describe, expect, it } from "vitest";
import { harness } from "../sched/harness.ts";
import { KernelHang } from "../../../src/kernel/kernel/locking.ts";

const LOCK_RE = (name: string, usage = "\\{\\+\\.\\+\\.\\}", wt = "\\{2:2\\}") =>
  new RegExp(`^ffffffffc[0-9a-f]{7} \\(${name.replace(/[()&]/g, "\\$&")}\\)${usage}-${wt}, at: [a-z_]+\\+0x[0-9a-f]+/0x[0-9a-f]+ \\[cell\\]$`);

describe("lockdep (6.1 debug)", () => {
  it("possible recursive locking detected: the kernel's table, then the CPU spins forever (soft lockup, function ends)", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    const mark = k.log.mark();
    expect(() =>
      h.insmod(() =>
        h.call("mem_init", 5, () => {
          const l = k.locking.DEFINE_SPINLOCK("my_lock");
          k.locking.spin_lock(l);
          k.locking.spin_lock(l);
        }),
      ),
    ).toThrow(KernelHang);
    const out = h.since(mark);
    expect(out.slice(0, 5)).toEqual([
      "",
      "============================================",
      "WARNING: possible recursive locking detected",
      "6.1.0-56-amd64 #1 Not tainted",
      "--------------------------------------------",
    ]);
    expect(out[5]).toBe("insmod/108 is trying to acquire lock:");
    expect(out[6]).toMatch(LOCK_RE("my_lock"));
    expect(out.slice(7, 9)).toEqual(["", "but task is already holding lock:"]);
    expect(out[9]).toMatch(LOCK_RE("my_lock"));
    expect(out.slice(10, 25)).toEqual([
      "",
      "other info that might help us debug this:",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0",
      "       ----",
      "  lock(my_lock);",
      "  lock(my_lock);",
      "",
      " *** DEADLOCK ***",
      "",
      " May be due to missing lock nesting notation",
      "",
      "1 lock held by insmod/108:",
      out[24],
    ]);
    expect(out[24]).toMatch(/^ #0: ffffffffc[0-9a-f]{7} \(my_lock\)/);
    expect(out.slice(25, 27)).toEqual(["", "stack backtrace:"]);
    expect(out[27]).toMatch(/^CPU: 0 PID: 108 Comm: insmod/);
    expect(out).toContain(" __lock_acquire+" + out.find((l) => l.startsWith(" __lock_acquire+"))!.slice(16));
    expect(out.some((l) => l.startsWith("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]"))).toBe(true);
    expect(k.reports.map((r) => r.kind)).toEqual(["lockdep", "timeout"]);
    expect(k.reports[1]!.limit).toBeUndefined(); // modelled by the kernel: not the sandbox's CPU deadline
    expect(k.taint.has("L")).toBe(true);
  });

  it("possible circular locking dependency detected: A->B in one path, B->A in another", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    const a = k.locking.DEFINE_MUTEX("lock_a");
    const b = k.locking.DEFINE_MUTEX("lock_b");
    h.insmod(() => {
      h.call("path_one", 10, () => {
        k.locking.mutex_lock(a);
        k.locking.mutex_lock(b);
        k.locking.mutex_unlock(b);
        k.locking.mutex_unlock(a);
      });
      h.call("path_two", 20, () => {
        k.locking.mutex_lock(b);
        k.locking.mutex_lock(a); // no hang: a is free; lockdep only reports the inversion
        k.locking.mutex_unlock(a);
        k.locking.mutex_unlock(b);
      });
    });
    const r = k.reports.find((r) => r.kind === "lockdep")!;
    expect(r.title).toBe("WARNING: possible circular locking dependency detected");
    const out = r.text.split("\n");
    expect(out.slice(0, 5)).toEqual([
      "",
      "======================================================",
      "WARNING: possible circular locking dependency detected",
      "6.1.0-56-amd64 #1 Not tainted",
      "------------------------------------------------------",
    ]);
    expect(out[5]).toBe("insmod/108 is trying to acquire lock:");
    expect(out[6]).toMatch(LOCK_RE("lock_a", "\\{\\+\\.\\+\\.\\}", "\\{3:3\\}"));
    expect(out[9]).toMatch(LOCK_RE("lock_b", "\\{\\+\\.\\+\\.\\}", "\\{3:3\\}"));
    expect(out.slice(10, 16)).toEqual(["", "which lock already depends on the new lock.", "", "", "the existing dependency chain (in reverse order) is:", ""]);
    expect(out[16]).toBe("-> #1 (lock_b){+.+.}-{3:3}:");
    expect(out[17]).toMatch(/^ {7}lock_acquire\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
    expect(out[18]).toMatch(/^ {7}__mutex_lock\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
    expect(out[19]).toMatch(/^ {7}path_one\+/);
    const z = out.indexOf("-> #0 (lock_a){+.+.}-{3:3}:");
    expect(out[z + 1]).toMatch(/^ {7}__lock_acquire\+/);
    expect(out.slice(out.indexOf(" Possible unsafe locking scenario:"), out.indexOf(" Possible unsafe locking scenario:") + 11)).toEqual([
      " Possible unsafe locking scenario:",
      "",
      "       CPU0                    CPU1",
      "       ----                    ----",
      "  lock(lock_b);",
      "                               lock(lock_a);",
      "                               lock(lock_b);",
      "  lock(lock_a);",
      "",
      " *** DEADLOCK ***",
      "",
    ]);
    expect(r.text).toContain("1 lock held by insmod/108:");
    expect(r.text).toContain("\nstack backtrace:\nCPU: 0 PID: 108");
    expect(r.frames?.[0]).toMatchObject({ fn: "path_two", line: 20 });
  });

  it("inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage: a lock taken with irqs on, then in an irq handler", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    const l = k.locking.DEFINE_SPINLOCK("dev_lock");
    h.insmod(() =>
      h.call("mem_init", 5, () => {
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn_irq", 30, () => {
            k.locking.spin_lock(l);
            k.locking.spin_unlock(l);
            return 1;
          }),
          0,
          "btn",
          1,
        );
        k.locking.spin_lock(l);
        k.locking.spin_unlock(l);
        k.irq.raise_irq(k.irq.BUTTON_IRQ, 5);
      }),
    );
    k.runDeferred({});
    const r = k.reports.find((r) => r.kind === "lockdep")!;
    const out = r.text.split("\n");
    expect(out.slice(0, 5)).toEqual([
      "",
      "================================",
      "WARNING: inconsistent lock state",
      "6.1.0-56-amd64 #1 Not tainted",
      "--------------------------------",
    ]);
    expect(out[5]).toBe("inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.");
    expect(out[6]).toBe("swapper/0/0 [HC1[1]:SC0[0]:HE0:SE1] takes:");
    expect(out[7]).toMatch(/^ffffffffc[0-9a-f]{7} \(dev_lock\)\{\?\.\+\.\}-\{2:2\}, at: btn_irq\+/);
    expect(out[8]).toBe("{HARDIRQ-ON-W} state was registered at:");
    expect(out[9]).toMatch(/^  lock_acquire\+/);
    expect(out[10]).toMatch(/^  _raw_spin_lock\+/);
    expect(out[11]).toMatch(/^  mem_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(out[12]).toMatch(/^  do_one_initcall\+/);
    expect(out).toContain("irq event stamp: " + out.find((x) => x.startsWith("irq event stamp: "))!.slice(17));
    const sc = out.indexOf(" Possible unsafe locking scenario:");
    expect(out.slice(sc - 2, sc + 11)).toEqual([
      "",
      "other info that might help us debug this:",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0",
      "       ----",
      "  lock(dev_lock);",
      "  <Interrupt>",
      "    lock(dev_lock);",
      "",
      " *** DEADLOCK ***",
      "",
      "no locks held by swapper/0/0.",
    ]);
    expect(r.text).toContain(" <IRQ>\n");
  });

  it("spin_lock_irqsave everywhere keeps lockdep quiet (the fix), and restores the caller's irq state", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    const l = k.locking.DEFINE_SPINLOCK("dev_lock");
    h.insmod(() =>
      h.call("mem_init", 5, () => {
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn_irq", 30, () => {
            const f = k.locking.spin_lock_irqsave(l);
            expect(f).toBe(0); // interrupts were already off in the handler
            k.locking.spin_unlock_irqrestore(l, f);
            expect(k.sched.irqs_disabled()).toBe(true);
            return 1;
          }),
          0,
          "btn",
          1,
        );
        const flags = k.locking.spin_lock_irqsave(l);
        expect(k.sched.irqs_disabled()).toBe(true);
        k.irq.raise_irq(k.irq.BUTTON_IRQ); // held off until irqs come back on
        expect(k.irq.stats.get(k.irq.BUTTON_IRQ)?.count).toBe(0);
        k.locking.spin_unlock_irqrestore(l, flags);
        expect(k.irq.stats.get(k.irq.BUTTON_IRQ)?.count).toBe(1);
      }),
    );
    expect(k.reports).toEqual([]);
  });

  it("bad unlock balance detected: unlocking a mutex that is not held", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("mem_exit", 7, () => {
        const m = k.locking.DEFINE_MUTEX("my_mutex");
        k.locking.mutex_unlock(m);
      }),
    );
    const out = k.reports[0].text.split("\n");
    expect(out.slice(0, 9)).toEqual([
      "",
      "=====================================",
      "WARNING: bad unlock balance detected!",
      "6.1.0-56-amd64 #1 Not tainted",
      "-------------------------------------",
      "insmod/108 is trying to release lock (my_mutex) at:",
      out[6],
      "but there are no more locks to release!",
      "",
    ]);
    expect(out[6]).toMatch(/^\[<ffffffffc[0-9a-f]{7}>\] mem_exit\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(out.slice(9, 13)).toEqual(["other info that might help us debug this:", "no locks held by insmod/108.", "", "stack backtrace:"]);
  });

  it("lock held when returning to user space: insmod's module_init returns with a lock held", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() => {
      h.call("mem_init", 5, () => k.locking.mutex_lock(k.locking.DEFINE_MUTEX("m")));
      k.modules.returnToUser();
    });
    const r = k.reports[0];
    expect(r.text.split("\n").slice(0, 8)).toEqual([
      "",
      "================================================",
      "WARNING: lock held when returning to user space!",
      "6.1.0-56-amd64 #1 Not tainted",
      "------------------------------------------------",
      "insmod/108 is leaving the kernel with locks still held!",
      "1 lock held by insmod/108:",
      r.text.split("\n")[7],
    ]);
    expect(r.text.split("\n")[7]).toMatch(/^ #0: ffffffffc[0-9a-f]{7} \(m\)\{\+\.\+\.\}-\{3:3\}, at: mem_init\+/);
  });

  it("lockdep reports once: after a report later splats say 'INFO: lockdep is turned off.'", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("f", 1, () => {
        k.locking.mutex_unlock(k.locking.DEFINE_MUTEX("m"));
        const l = k.locking.DEFINE_SPINLOCK("l");
        k.locking.spin_lock(l);
        k.sched.might_alloc(0xcc0, "include/linux/sched/mm.h", 274);
        k.locking.spin_unlock(l);
      }),
    );
    expect(k.reports.map((r) => r.kind)).toEqual(["lockdep", "sleep-in-atomic"]);
    expect(k.reports[1].text).toContain("RCU nest depth: 0, expected: 0\nINFO: lockdep is turned off.\nPreemption disabled at:");
  });

  it("distro config: no lockdep output; an AB-BA order prints nothing", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    const a = k.locking.DEFINE_SPINLOCK("a");
    const b = k.locking.DEFINE_SPINLOCK("b");
    const mark = k.log.mark();
    h.insmod(() =>
      h.call("f", 1, () => {
        k.locking.spin_lock(a);
        k.locking.spin_lock(b);
        k.locking.spin_unlock(b);
        k.locking.spin_unlock(a);
        k.locking.spin_lock(b);
        k.locking.spin_lock(a);
        k.locking.spin_unlock(a);
        k.locking.spin_unlock(b);
      }),
    );
    expect(h.since(mark)).toEqual([]);
  });

  it("old eras: '[ INFO: possible recursive locking detected ]' header and ' (name){+.+...}, at: [<addr>] fn' locks", () => {
    const h = harness("i386-2.6", "debug");
    const { k } = h;
    expect(() =>
      h.insmod(() =>
        h.call("f", 1, () => {
          const l = k.locking.DEFINE_SPINLOCK("my_lock");
          k.locking.spin_lock(l);
          k.locking.spin_lock(l);
        }),
      ),
    ).toThrow(KernelHang);
    const out = k.reports[0].text.split("\n");
    expect(out.slice(1, 3)).toEqual(["=============================================", "[ INFO: possible recursive locking detected ]"]);
    expect(out[6]).toMatch(/^ \(my_lock\)\{\+\.\+\.\.\.\}, at: \[<[0-9a-f]{8}>\] f\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
  });
});
