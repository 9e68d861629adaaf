// i386 6.1: an interrupt that arrived while the CPU idled prints the IRQ/softirq stack section between " <SOFTIRQ>"
// (or " <IRQ>") and its end marker, the rest of the entry path on the idle task's stack, then the interrupted idle
// task's registers in process_32.c's __show_regs(SHOW_REGS_SHORT) form: EIP, Code:, EAX.., ESI.., DS.. and no CR
// line (the same three-line form as the real 686 log's user-mode block).
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const TIMER = `import { timer_setup, mod_timer, del_timer_sync, kmalloc, kfree, GFP_KERNEL, jiffies, msecs_to_jiffies,
         timer_list, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
const timer = new timer_list();
let p = 0n;
function tick(t: timer_list): void { p = kmalloc(64, GFP_KERNEL); }
module_init(() => { timer_setup(timer, tick, 0); mod_timer(timer, jiffies + msecs_to_jiffies(5)); return 0; });
module_exit(() => { del_timer_sync(timer); kfree(p); });
`;
const IRQ = `import { request_irq, free_irq, kmalloc, kfree, GFP_KERNEL, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ, raise_irq_at } from "sim";
MODULE_LICENSE("GPL");
let p = 0n;
function h(irq: number, dev: unknown): number { p = kmalloc(256, GFP_KERNEL); return IRQ_HANDLED; }
module_init(() => { request_irq(BUTTON_IRQ, h, 0, "btn", null); raise_irq_at(10, BUTTON_IRQ); return 0; });
module_exit(() => { free_irq(BUTTON_IRQ, null); kfree(p); });
`;
const strip = (l: string) => l.replace(/^\[\s*\d+\.\d+\] /, "");
async function trace(cell: string, profile: string): Promise<string[]> {
  const r = await runModule(cell, { profile, config: "debug" });
  const d = r.dmesg.map((l) => strip(typeof l === "string" ? l : (l as { text: string }).text));
  const at = d.indexOf("Call Trace:");
  return d.slice(at, d.findIndex((l, i) => i > at && / startup_32_smp\+| secondary_startup_64/.test(l)) + 1);
}
const REGS_32 = [
  /^EIP: default_idle\+0xa\/0x10$/,
  /^Code: ([0-9a-f]{2} ){32}55 89 e5 3e 8d 74 26 00 fb f4 <5d> c3( [0-9a-f]{2}){20}$/,
  /^EAX: [0-9a-f]{8} EBX: [0-9a-f]{8} ECX: [0-9a-f]{8} EDX: [0-9a-f]{8}$/,
  /^ESI: [0-9a-f]{8} EDI: [0-9a-f]{8} EBP: (c[0-9a-f]{7}) ESP: \1$/,
  /^DS: 007b ES: 007b FS: 00d8 GS: 0000 SS: 0068 EFLAGS: 00000246$/,
];

describe("i386 6.1: the interrupted idle task's register block (process_32.c __show_regs, SHOW_REGS_SHORT)", () => {
  it("a timer softirq: <SOFTIRQ> up to __do_softirq, do_softirq_own_stack..handle_exception on the task stack, the EIP block, the idle loop", async () => {
    const t = await trace(TIMER, "i386-6.1");
    expect(t[1]).toBe(" <SOFTIRQ>");
    const end = t.indexOf(" </SOFTIRQ>");
    expect(t[end - 1]).toMatch(/^ __do_softirq\+/);
    expect(t.slice(end + 1, end + 6).map((l) => l.replace(/\+.*/, ""))).toEqual([
      " do_softirq_own_stack",
      " __irq_exit_rcu",
      " irq_exit_rcu",
      " sysvec_apic_timer_interrupt",
      " handle_exception",
    ]);
    expect(t[end + 5]).toBe(" handle_exception+0x133/0x133");
    REGS_32.forEach((re, i) => expect(t[end + 6 + i]).toMatch(re));
    expect(t.some((l) => /^CR0: /.test(l))).toBe(false); // SHOW_REGS_SHORT stops before the control registers
    expect(t[end + 11]).toMatch(/^ arch_cpu_idle\+/);
    expect(t.some((l) => l.includes("<TASK>") || l.includes("asm_sysvec"))).toBe(false); // no TASK name on i386
  });

  it("a device interrupt: <IRQ> up to the flow handler, __handle_irq..common_interrupt on the task stack, then the EIP block", async () => {
    const t = await trace(IRQ, "i386-6.1");
    expect(t[1]).toBe(" <IRQ>");
    const end = t.indexOf(" </IRQ>");
    expect(t[end - 1]).toMatch(/^ handle_edge_irq\+/);
    expect(t.slice(end + 1, end + 5).map((l) => l.replace(/\+.*/, ""))).toEqual([
      " __handle_irq",
      " __common_interrupt",
      " common_interrupt",
      " handle_exception",
    ]);
    REGS_32.forEach((re, i) => expect(t[end + 5 + i]).toMatch(re));
  });

  it("x86_64 keeps its own form: </IRQ>, <TASK>, the asm entry and the RIP block", async () => {
    const t = await trace(TIMER, "x86_64-6.1");
    const end = t.indexOf(" </IRQ>");
    expect(t.slice(end + 1, end + 4).map((l) => l.replace(/\+.*/, ""))).toEqual([" <TASK>", " asm_sysvec_apic_timer_interrupt", "RIP: 0010:native_safe_halt"]);
  });
});
