import { describe, expect, it } from "vitest";
import { harness, GFP_KERNEL } from "./harness.ts";
import { MAX_SLEEP_NESTING } from "../../../src/kernel/kernel/sched.ts";

// test/fixtures/real-kernel/x86_64-512M-nokaslr.log lines 1721-1746 (Debian 6.1.0-56-amd64, no DEBUG_ATOMIC_SLEEP):
// msleep(10) inside spin_lock in memdemo_init. ("? foo" unreliable frames and the user registers aside.)
const REAL_DISTRO = {
  title: "BUG: scheduling while atomic: insmod/125/0x00000002",
  trace: [
    " dump_stack_lvl+0x44/0x5c",
    " __schedule_bug.cold+0x42/0x4e",
    " __schedule+0x804/0xa00",
    " schedule+0x5a/0xd0",
    " schedule_timeout+0x94/0x150",
    " msleep+0x29/0x40",
  ],
  bottom: [
    " do_one_initcall+0x59/0x220",
    " do_init_module+0x4a/0x1f0",
    " __do_sys_finit_module+0xac/0x120",
    " do_syscall_64+0x5d/0xb0",
    " entry_SYSCALL_64_after_hwframe+0x6e/0xd8",
  ],
};
// x86_64-custom-debugatomic-512M-nokaslr.log lines 1286-1311 (the debug kernel's frames).
const REAL_DEBUG_TRACE = [
  " dump_stack_lvl+0x3a/0x4c",
  " dump_stack+0x10/0x12",
  " __schedule_bug+0x4b/0x5a",
  " __schedule+0x9c/0x424",
  " schedule+0x6e/0x9e",
  " schedule_timeout+0xb2/0xd6",
  " schedule_timeout_uninterruptible+0x27/0x29",
  " msleep+0x17/0x1e",
];

describe("scheduling while atomic (__schedule_bug, every config)", () => {
  it("msleep under spin_lock on Debian x86_64: the real log's BUG line, Modules linked in, trace; preempt_count reset to 0", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    const mark = k.log.mark();
    let after = -1;
    h.insmod(
      () =>
        h.call("memdemo_init", 30, () => {
          const l = k.locking.DEFINE_SPINLOCK("lock");
          k.locking.spin_lock(l);
          const t0 = k.clock.now();
          k.sched.msleep(10);
          expect(k.clock.now() - t0).toBeGreaterThanOrEqual(10e6);
          after = k.sched.preempt_count();
          k.sched.preempt_disable(); // memdemo re-increments before spin_unlock
          k.locking.spin_unlock(l);
        }),
      125,
    );
    expect(after).toBe(0); // "preempt_count was reset by the scheduler"
    const out = h.since(mark);
    expect(out[0]).toBe(REAL_DISTRO.title);
    expect(out[1]).toMatch(/^Modules linked in:/);
    expect(out[2]).toMatch(/^CPU: 0 PID: 125 Comm: insmod /);
    expect(out[3]).toMatch(/^Hardware name: /);
    expect(out.slice(4, 6)).toEqual(["Call Trace:", " <TASK>"]);
    expect(out.slice(6, 6 + REAL_DISTRO.trace.length)).toEqual(REAL_DISTRO.trace);
    expect(out[6 + REAL_DISTRO.trace.length]).toMatch(/^ memdemo_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(out.slice(7 + REAL_DISTRO.trace.length, 7 + REAL_DISTRO.trace.length + 5)).toEqual(REAL_DISTRO.bottom);
    expect(k.reports.map((r) => r.kind)).toEqual(["scheduling-while-atomic"]);
    expect(k.taint.has("W")).toBe(true);
  });

  it("the debug kernel: the real custom log's frames (schedule_timeout_uninterruptible), held lock, Preemption disabled at", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    const mark = k.log.mark();
    h.insmod(
      () =>
        h.call("memdemo_init", 30, () => {
          const l = k.locking.DEFINE_SPINLOCK("lock");
          k.locking.spin_lock(l);
          k.sched.msleep(10);
        }),
      71,
    );
    const out = h.since(mark);
    expect(out[0]).toBe("BUG: scheduling while atomic: insmod/71/0x00000002");
    expect(out[1]).toBe("1 lock held by insmod/71:");
    expect(out[3]).toMatch(/^Modules linked in:/);
    expect(out[4]).toBe("Preemption disabled at:");
    const ct = out.indexOf("Call Trace:");
    expect(out.slice(ct + 2, ct + 2 + REAL_DEBUG_TRACE.length)).toEqual(REAL_DEBUG_TRACE);
    // msleep first calls might_sleep? No: msleep -> schedule_timeout_uninterruptible has no might_sleep; only the BUG.
    expect(k.reports.filter((r) => r.kind === "sleep-in-atomic")).toHaveLength(0);
  });

  it("armmp 6.1 has no PREEMPT_COUNT: spin_lock leaves preempt_count 0 and msleep under it prints nothing (real log)", () => {
    const h = harness("arm-6.1-virt", "distro");
    const { k } = h;
    const mark = k.log.mark();
    h.insmod(
      () =>
        h.call("memdemo_init", 30, () => {
          const l = k.locking.DEFINE_SPINLOCK("lock");
          k.locking.spin_lock(l);
          expect(k.sched.preempt_count()).toBe(0);
          expect(k.sched.in_atomic()).toBe(false);
          k.sched.msleep(10);
          k.locking.spin_unlock(l);
        }),
      102,
    );
    expect(h.since(mark)).toEqual([]);
  });

  it("msleep in an interrupt handler: scheduling while atomic as swapper/0 with the hardirq count", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    h.insmod(() =>
      h.call("init", 1, () => {
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn", 9, () => (k.sched.msleep(5), 1)),
          0,
          "btn",
          1,
        );
        k.irq.raise_irq(k.irq.BUTTON_IRQ, 10);
      }),
    );
    k.runDeferred({});
    const r = k.reports.find((r) => r.kind === "scheduling-while-atomic")!;
    expect(r.title).toBe("BUG: scheduling while atomic: swapper/0/0/0x00010002");
    expect(r.text).toContain(" <IRQ>\n");
    expect(r.frames?.[0]).toMatchObject({ fn: "btn", line: 9 });
    // the handler's hardirq state is intact afterwards; the interrupted idle task is untouched
    expect(k.sched.preempt_count()).toBe(0);
  });

  it("msleep in process context lets due timers run meanwhile, in order (the real log's timer test)", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    const order: string[] = [];
    h.insmod(() =>
      h.call("init", 1, () => {
        const t = k.timers.timer_setup(
          h.cb("tfn", 2, () => order.push(`timer@${k.current.comm}`)),
          0,
        );
        k.timers.mod_timer(t, k.clock.jiffies + 1);
        order.push("before");
        k.sched.msleep(20);
        order.push(`after@${k.current.comm}`);
      }),
    );
    expect(order).toEqual(["before", "timer@swapper/0", "after@insmod"]);
  });

  it("mutex_lock under a spinlock: might_sleep at kernel/locking/mutex.c:283", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("init", 1, () => {
        const l = k.locking.DEFINE_SPINLOCK("l");
        const m = k.locking.DEFINE_MUTEX("m");
        k.locking.spin_lock(l);
        k.locking.mutex_lock(m);
        k.locking.mutex_unlock(m);
        k.locking.spin_unlock(l);
      }),
    );
    const r = k.reports.find((r) => r.kind === "sleep-in-atomic")!;
    expect(r.title).toBe("BUG: sleeping function called from invalid context at kernel/locking/mutex.c:283");
    expect(r.text).toContain("1 lock held by insmod/108:");
    expect(r.text).toContain("\n __might_sleep+0x5c/0x61\n mutex_lock+");
  });

  it("the event order is deterministic: time, then insertion order; two boots give identical logs", () => {
    const run = () => {
      const h = harness("x86_64-6.1", "debug");
      const { k } = h;
      h.insmod(() =>
        h.call("init", 1, () => {
          const mk = (n: string) =>
            k.timers.timer_setup(
              h.cb(n, 2, () => kmalloc(h)),
              0,
              n,
            );
          const a = mk("a"),
            b = mk("b"),
            c = mk("c");
          k.timers.mod_timer(c, k.clock.jiffies + 5);
          k.timers.mod_timer(a, k.clock.jiffies + 5);
          k.timers.mod_timer(b, k.clock.jiffies + 2);
          const w = k.workqueue.INIT_WORK(h.cb("w", 3, () => {}));
          k.workqueue.schedule_delayed_work(w, 3);
          k.irq.request_irq(
            k.irq.BUTTON_IRQ,
            h.cb("irqh", 4, () => 1),
            0,
            "b",
            1,
          );
          k.irq.raise_irq_after(k.irq.BUTTON_IRQ, 30);
        }),
      );
      k.runDeferred({});
      return { labels: k.sched.loop.history.map((e) => `${e.at} ${e.label}`), log: k.log.dmesg() };
    };
    const a = run();
    const b = run();
    expect(a.labels.map((l) => l.split(" ").slice(1).join(" "))).toEqual(["timer b", "delayed_work_timer_fn w", "work w", "timer c", "timer a", "irq 5"]);
    expect(b).toEqual(a);
  });

  it("runDeferred stops at the simulated-time bound and at the event bound", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    let n = 0;
    h.insmod(() =>
      h.call("init", 1, () => {
        const t = k.timers.timer_setup(
          h.cb("tick", 2, (tt: unknown) => {
            n++;
            k.timers.mod_timer(tt as never, k.clock.jiffies + 1); // re-arms forever
          }),
          0,
        );
        k.timers.mod_timer(t, k.clock.jiffies + 1);
      }),
    );
    const r1 = k.runDeferred({ simTimeMs: 40 });
    expect(r1.stoppedBy).toBe("time");
    const hz = k.profile.hz;
    expect(n).toBe(Math.floor((40 * hz) / 1000));
    const r2 = k.runDeferred({ maxEvents: 3 });
    expect(r2).toMatchObject({ ran: 3, stoppedBy: "events" });
  });
});

function kmalloc(h: ReturnType<typeof harness>) {
  h.k.sched.might_alloc(GFP_KERNEL, "include/linux/sched/mm.h", 274);
}

describe("an interrupt raised synchronously from module code", () => {
  it("runs the handler on top of insmod: the trace has the handler in <IRQ> and module_init under <TASK>", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("mem_init", 3, () => {
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn", 8, () => (k.sched.might_alloc(GFP_KERNEL, "include/linux/sched/mm.h", 274), 1)),
          0,
          "b",
          1,
        );
        k.irq.raise_irq(k.irq.BUTTON_IRQ);
      }),
    );
    const r = k.reports.find((r) => r.kind === "sleep-in-atomic")!;
    expect(r.text).toContain("pid: 108, name: insmod");
    expect(r.text).toMatch(/ <IRQ>\n(.*\n)* btn\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]\n __handle_irq_event_percpu\+/);
    expect(r.text).toMatch(
      / <\/IRQ>\n <TASK>\n asm_common_interrupt\+0x[0-9a-f]+\/0x[0-9a-f]+\n mem_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]\n do_one_initcall\+/,
    );
    expect(r.text.match(/ btn\+/g)).toHaveLength(1);
  });
});

describe("wait_event: the condition is checked after each wake-up, not each jiffy", () => {
  it("a condition that never comes true and nothing pending: checked once, the 60 s pass at once, one timeout report", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    let checks = 0;
    const t0 = k.clock.now();
    h.insmod(() => h.call("fz_init", 3, () => k.sched.wait_event(() => (checks++, false))));
    expect(checks).toBe(1);
    expect(k.clock.now() - t0).toBeGreaterThanOrEqual(60e9);
    expect(k.reports.filter((r) => r.kind === "timeout")).toHaveLength(1);
    expect(k.reports[0]!.limit).toBeUndefined(); // a hang the kernel models, not the sandbox's CPU deadline
  });

  it("a timer that sets the flag wakes the waiter in the jiffy it fires", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    let flag = false;
    let checks = 0;
    h.insmod(() =>
      h.call("fz_init", 3, () => {
        const t = k.timers.timer_setup(
          h.cb("fz_timer", 9, () => void (flag = true)),
          0,
        );
        k.timers.mod_timer(t, k.clock.jiffies + 5);
        expect(k.sched.wait_event(() => (checks++, flag))).toBe(true);
      }),
    );
    expect(flag).toBe(true);
    expect(checks).toBe(2); // before sleeping, and after the wake-up the timer's jiffy brought
    expect(k.reports.filter((r) => r.kind === "timeout")).toEqual([]);
  });

  it("under a spinlock: one 'scheduling while atomic', not one per jiffy", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    h.insmod(() =>
      h.call("fz_init", 3, () => {
        const l = k.locking.DEFINE_SPINLOCK("lock");
        k.locking.spin_lock(l);
        expect(k.sched.wait_event_timeout(() => false, 100)).toBe(0);
        k.locking.spin_unlock(l);
      }),
    );
    expect(k.reports.filter((r) => r.kind === "scheduling-while-atomic")).toHaveLength(1);
  });
});

describe("sleeping contexts run what falls due inside one another, to a bounded depth", () => {
  it("200 work items that each msleep: all run, nested at most MAX_SLEEP_NESTING deep (no host stack overflow)", () => {
    const h = harness("x86_64-6.1", "distro");
    const { k } = h;
    let ran = 0;
    let deepest = 0;
    h.insmod(() =>
      h.call("fz_init", 3, () => {
        for (let i = 0; i < 200; i++) {
          const w = k.workqueue.INIT_WORK(
            h.cb("fz_work", 9, () => {
              ran++;
              deepest = Math.max(deepest, k.sched.loop.depth);
              k.sched.msleep(100);
            }),
          );
          k.workqueue.schedule_work(w);
        }
        k.sched.msleep(10);
      }),
    );
    k.runDeferred();
    expect(ran).toBe(200);
    expect(deepest).toBeLessThanOrEqual(MAX_SLEEP_NESTING);
    expect(deepest).toBeGreaterThan(1); // a sleeping work item does let the next one run
  });
});
