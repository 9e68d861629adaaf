// Models the kernel-mode fault Oops of arch/x86/mm/fault.c (6.1 show_fault_oops/dump_pagetable/page_fault_oops;
// 2.6.26 no_context), arch/x86/kernel/traps.c (6.1 exc_general_protection, die_addr), arch/arm/mm/fault.c
// (3.4 and 6.1 __do_kernel_fault, show_pte, the FSR) and arch/arm64/mm/fault.c (6.1 die_kernel_fault, mem_abort_decode).
//
// What each era prints, in order (the register dump, trace and module list come from debug/splat.ts):
// - x86_64 / i386 6.1: "BUG: kernel NULL pointer dereference, address: %px" (address < PAGE_SIZE) or "BUG: unable to
//   handle page fault for address: %px"; "#PF: supervisor write access in kernel mode"; "#PF: error_code(0x0002) -
//   not-present page"; dump_pagetable ("PGD .. P4D .. PUD .. PMD .. PTE .." on x86_64, "*pde = %08x " [+ "*pte = "]
//   on non-PAE i386; a line that stops before the PTE keeps pr_cont's trailing space); "Oops: 0002 [#1] ..."; CPU,
//   Hardware name, RIP/Code/registers, Call Trace, Modules linked in; "CR2: %016lx"; taint D; the end marker; the
//   register summary again. A non-canonical x86_64 address is a #GP instead: "general protection fault, probably
//   for non-canonical address 0x...: 0000 [#1] ..." with no CR2 lines (and KASAN's null-ptr-deref hint when the
//   address decodes to a shadow address).
// - i386 2.6.26: "BUG: unable to handle kernel {NULL pointer dereference|paging request} at %08lx", "IP: [<ip>]
//   sym", "*pde = %08lx ", "Oops: 0002 [#1] SMP ", then the old die() body and "EIP: [<ip>] sym SS:ESP 0068:%08lx".
// - ARM 3.4: "Unable to handle kernel ... at virtual address %08lx", "pgd = c0004000", "[addr] *pgd=%08x" [+ ",
//   *pte=%08x, *ppte=%08x" or "(bad)" for a section], "Internal error: Oops: <fsr> [#1] ... ARM". 6.1 prints the
//   "8<--- cut here ---" line first and no "pgd =" line (show_pte lost it in the 5.x series). The FSR printed is
//   the DFSR of the abort (short descriptors, ARM ARM B4.1.52): fault status 0x5 "section translation fault"
//   (first-level entry empty: NULL, user addresses, holes) or 0x7 "page translation fault" (second-level PTE
//   empty: vmalloc guard pages, freed areas), with bit 11 WnR (FSR_WRITE, 0x800) for a write: 805/807 or 5/7.
// - arm64 6.1: "Unable to handle kernel ... at virtual address %016lx", the Mem abort / Data abort info block
//   decoding ESR 0x96000004 + level (+0x40 WnR), the swapper pgtable line and "[addr] pgd=..., p4d=..." walk,
//   "Internal error: Oops: %016x [#1] PREEMPT SMP".
// The Oops ends the current module function: the caller throws KernelOops (kernel/module.ts) after this returns.
//
// Simplifications (stated): the walk shown is of the kernel's own page tables (swapper_pg_dir / init_top_pgt), as
// for a kernel thread; a real insmod has its own PGD, whose user half may be populated ("PGD 8000000004d2b067 ...
// PMD 0" instead of "PGD 0 P4D 0 "). Register values are invented (splat.ts) except CR2/the address register; the
// Code: bytes around the faulting instruction are invented, the instruction itself is a real encoding of the
// access (x86 "88 10" mov %dl,(%rax) ..., ARM "e5c32000" strb r2,[r3] ...). No SMAP/PAN; the one protection fault
// is a write to the 6.1 kernel's text or rodata (read-only after mark_rodata_ro: x86 error_code 0x0003
// "permissions violation", ARM FSR 0x80d section permission fault, arm64 FSC 0x0c+level); no exception-table
// fixups (a module has none).

import type { Kernel } from "../kernel.ts";
import type { Walk } from "./pgtable.ts";
import { formatX86Walk } from "./pgtable.ts";
import { KERN_ALERT, KERN_DEFAULT, KERN_EMERG, KERN_INFO } from "../kernel/printk.ts";
import { dieBody, end_trace, moduleFrames, oopsHeader, recordSplat, showRegsLines, type RegOverrides } from "../debug/splat.ts";
import type { Report } from "../types.ts";

/** What faulted: a plain load/store of the module (RIP in the module function) or a string routine. */
export type AccessOp = "load" | "store" | "memset" | "memcpy" | "memmove" | "memcmp";

export interface FaultInfo {
  addr: bigint;
  write: boolean;
  size: number;
  op: AccessOp;
  /** Kernel frames between the faulting function and the module (e.g. the KASAN memset interceptor). */
  callers?: string[];
  /** The faulting function when it is not the module's ("kasan_check_range+0x../0x.."). */
  ip?: string;
  /** A write to a present, read-only mapping (kernel text and rodata under STRICT_KERNEL_RWX): a permission fault. */
  protection?: boolean;
  /** An instruction fetch (x86 X86_PF_INSTR where NX exists: x86_64, i386 PAE): a return into freed module text. */
  fetch?: boolean;
  /** The call trace's lines as the scheduler prints the current context levels (a fault in an interrupt: <IRQ>..). */
  traceLines?: readonly string[];
  /** What made the kernel run there (the report's explanation), when the caller knows better than the access. */
  explain?: string;
}

const hex = (v: bigint | number, w: number) => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(w, "0");

/** The string routine the CPU was in, per arch (invented offsets). */
function stringRoutine(k: Kernel, op: AccessOp): string {
  const arm = k.profile.arch === "arm" || k.profile.arch === "arm64";
  switch (op) {
    case "memset":
      return arm ? "memset+0x54/0x88" : "__memset+0x24/0x30";
    case "memcpy":
      return arm ? "memcpy+0x48/0x330" : "__memcpy+0x12/0x20";
    case "memmove":
      return arm ? "memmove+0x3c/0x3b0" : "__memmove+0x8a/0x1b0";
    case "memcmp":
      return arm ? "memcmp+0x1c/0x60" : "memcmp+0x2a/0x60";
    default:
      return "";
  }
}

/** Instruction bytes at the fault (x86: first two bytes; ARM: the word). */
function x86Trap(info: FaultInfo, is64: boolean): [number, number] {
  if (info.op !== "load" && info.op !== "store") return info.write ? [0xf3, 0xaa] : [0x0f, 0xb6]; // rep stosb / movzbl
  if (info.write) {
    if (info.size === 1) return [0x88, 0x10];
    if (info.size === 8 && is64) return [0x48, 0x89];
    return [0x89, 0x10];
  }
  if (info.size === 1) return [0x0f, 0xb6];
  if (info.size === 2) return [0x0f, 0xb7];
  if (info.size === 8 && is64) return [0x48, 0x8b];
  return [0x8b, 0x00];
}

function armInstr(info: FaultInfo): number {
  if (info.op !== "load" && info.op !== "store") return info.write ? 0xe4c01001 : 0xe4d13001; // strb r1,[r0],#1 / ldrb r3,[r1],#1
  const st = [0xe5c32000, 0xe1c320b0, 0, 0xe5832000, 0, 0, 0, 0xe1c120f0];
  const ld = [0xe5d33000, 0xe1d330b0, 0, 0xe5933000, 0, 0, 0, 0xe1c320d0];
  return (info.write ? st : ld)[info.size - 1] || 0xe5832000;
}

/**
 * Print the architecture's Oops for a kernel-mode fault at info.addr, taint D and record the Report (kind "oops").
 * `walk` is the page-table walk of the address (x86 dump_pagetable, ARM show_pte); null for a non-canonical address.
 */
export function kernelFault(k: Kernel, info: FaultInfo, walk: Walk | null): Report {
  const { arch, era } = k.profile;
  const mark = k.log.mark();
  const all = moduleFrames(k);
  const stack = all.stack;
  // Where the CPU was: the module's load/store (its innermost frame), or a kernel routine it called.
  const routine = info.ip ?? stringRoutine(k, info.op);
  const modIp = all.frames[0];
  const ip = routine || modIp || `${info.write ? "write" : "read"}${info.size === 1 ? "b" : info.size === 2 ? "w" : info.size === 4 ? "l" : "q"}`;
  const dropInnermost = !routine && modIp !== undefined; // the faulting module function is RIP, not a trace entry
  const callers = info.callers ?? [];
  const addr = BigInt.asUintN(arch === "x86_64" || arch === "arm64" ? 64 : 32, info.addr);
  const w = arch === "x86_64" || arch === "arm64" ? 16 : 8;
  const alert = (s: string) => k.printk(KERN_ALERT + "%s\n", s);
  const is64 = arch === "x86_64";
  const regs: RegOverrides = {};
  let title: string;
  let explain: string;
  const what = describe(k, addr);

  // Trace without the faulting module frame (it is the RIP/PC line).
  const saved = k.captureModuleStack;
  const body = (fn: string, r: RegOverrides) => {
    if (dropInnermost) {
      let dropped = false;
      k.captureModuleStack = () =>
        saved().filter((f) => {
          if (!dropped && f.module !== undefined) {
            dropped = true;
            return false;
          }
          return true;
        });
    }
    try {
      dieBody(k, fn, callers, r, undefined, info.traceLines);
    } finally {
      k.captureModuleStack = saved;
    }
  };

  if (arch === "x86_64" || arch === "i386") {
    const trap = x86Trap(info, is64);
    regs.TRAP0 = trap[0];
    regs.TRAP1 = trap[1];
    if (arch === "x86_64") {
      regs[info.op === "memset" || info.op === "memcpy" || info.op === "memmove" ? "RDI" : "RAX"] = addr;
    } else {
      regs[info.op === "memset" || info.op === "memcpy" || info.op === "memmove" ? "EDI" : "EAX"] = addr;
    }
    if (walk === null) {
      // #GP: a non-canonical address never reaches the page tables.
      const header = fixHeader(k, oopsHeader(k, `general protection fault, probably for non-canonical address 0x${addr.toString(16)}`, 0));
      title = header;
      k.printk(KERN_DEFAULT + "%s\n", header);
      kasanNonCanonicalHook(k, addr);
      body(ip, regs);
      k.taint.add("D");
      end_trace(k);
      for (const l of showRegsLines(k, ip, regs)) k.printk(KERN_DEFAULT + "%s\n", l);
      explain = `0x${addr.toString(16)} is not a canonical x86_64 address (bits 63..47 must all equal bit 47): the CPU raises a general protection fault before any page-table lookup. A pointer like this is garbage or poison (e.g. LIST_POISON, a freed object's contents).`;
      return finish();
    }
    // X86_PF_PROT (bit 0) when the page was present: the write hit a read-only mapping
    const fetch = info.fetch === true && (arch === "x86_64" || k.profile.pae === true);
    const err = (info.write ? 2 : 0) | (info.protection ? 1 : 0) | (fetch ? 0x10 : 0);
    regs.CR2 = addr;
    if (era === "6.1") {
      title = addr < 4096n ? `BUG: kernel NULL pointer dereference, address: ${hex(addr, w)}` : `BUG: unable to handle page fault for address: ${hex(addr, w)}`;
      alert(title);
      alert(`#PF: supervisor ${fetch ? "instruction fetch" : info.write ? "write access" : "read access"} in kernel mode`);
      alert(`#PF: error_code(0x${hex(err, 4)}) - ${info.protection ? "permissions violation" : "not-present page"}`);
      k.printk(KERN_INFO + "%s\n", dumpPagetable(k, info.protection ? readOnlyLeaf(walk) : walk));
      k.printk(KERN_DEFAULT + "%s\n", fixHeader(k, oopsHeader(k, "Oops", err)));
      body(ip, regs);
      k.printk(KERN_DEFAULT + "CR2: %016lx\n", addr);
      k.taint.add("D");
      end_trace(k);
      for (const l of showRegsLines(k, ip, regs)) k.printk(KERN_DEFAULT + "%s\n", l);
    } else {
      // 2.6.26 / 3.4 no_context()
      title = `BUG: unable to handle kernel ${addr < 4096n ? "NULL pointer dereference" : "paging request"} at ${hex(addr, w)}`;
      alert(title);
      const ipSym = k.kallsyms.frame(ip);
      const ipAddr = k.kallsyms.frameAddress(ip);
      alert(`IP: [<${hex(ipAddr, w)}>] ${ipSym}`);
      alert(dumpPagetable(k, walk));
      k.printk(KERN_EMERG + "%s\n", oopsHeader(k, "Oops", err));
      body(ip, regs);
      const sp = arch === "i386" ? 0xc2d00000n + BigInt(k.current.pid) * 0x2000n + 0x1aa4n : 0xffff880006a33d98n;
      k.printk(KERN_EMERG + "%s\n", arch === "i386" ? `EIP: [<${hex(ipAddr, 8)}>] ${ipSym} SS:ESP 0068:${hex(sp, 8)}` : `RIP  [<${hex(ipAddr, 16)}>] ${ipSym}`);
      if (arch === "x86_64") k.printk(KERN_EMERG + "%s\n", ` RSP <${hex(sp, 16)}>`);
      if (arch === "x86_64") k.printk(KERN_EMERG + "CR2: %016lx\n", addr);
      k.taint.add("D");
      end_trace(k);
    }
    explain = explainFault(addr, info, what);
    return finish();
  }

  if (arch === "arm") {
    // DFSR fault status: 0x5/0x7 section/page translation fault; 0xd/0xf section/page permission fault
    const mappedBySection = !walk?.steps.some((st) => st.level === "PTE");
    const fs = info.protection ? (mappedBySection ? 0xd : 0xf) : walk && walk.stoppedAt === "PTE" ? 0x7 : 0x5;
    // a prefetch abort (an instruction fetch) is reported with FSR_LNX_PF (bit 31) set on the IFSR
    const fsr = info.fetch ? (fs | 0x80000000) >>> 0 : fs | (info.write ? 0x800 : 0);
    regs.INSTR = armInstr(info);
    title = `Unable to handle kernel ${addr < 4096n ? "NULL pointer dereference" : "paging request"} at virtual address ${hex(addr, 8)}`;
    if (era === "6.1") alert("8<--- cut here ---");
    alert(title);
    if (era !== "6.1") alert(`pgd = ${hex(0xc0004000n, 8)}`);
    alert(showPteArm(walk, addr));
    k.printk(KERN_EMERG + "%s\n", oopsHeader(k, "Oops", fsr));
    body(ip, regs);
    k.taint.add("D");
    end_trace(k);
    explain = explainFault(addr, info, what);
    return finish();
  }

  // arm64
  const level = walk && addr >> 48n === 0xffffn ? Math.max(0, ["PGD", "P4D", "PUD", "PMD", "PTE"].indexOf(walk.stoppedAt ?? "PTE") - 1) : 0;
  // A64: strb w1, [x0] / ldrb w0, [x0] (or the word forms), the instruction dump_instr() shows in parentheses.
  regs.INSTR = info.write ? (info.size === 1 ? 0x39000001 : 0xb9000001) : info.size === 1 ? 0x39400000 : 0xb9400000;
  // FSC 0x04+level translation fault; 0x0c+level permission fault (the level of the entry that maps the page)
  const leafLevel = walk?.steps[walk.steps.length - 1]?.level;
  const permLevel = leafLevel === "PTE" ? 3 : leafLevel === "PMD" ? 2 : 1;
  const fsc = info.protection ? 0xc + permLevel : 0x4 + level;
  const iss = fsc + (info.write && !info.fetch ? 0x40 : 0);
  // an instruction abort taken in EL1 (EC 0x21, IL set) for a fetch; a data abort (EC 0x25) otherwise
  const esr = (info.fetch ? 0x86000000 : 0x96000000) + iss;
  title = `Unable to handle kernel ${addr < 4096n ? "NULL pointer dereference" : "paging request"} at virtual address ${hex(addr, 16)}`;
  alert(title);
  alert("Mem abort info:");
  alert(`  ESR = 0x${hex(esr, 16)}`);
  alert(info.fetch ? "  EC = 0x21: IABT (current EL), IL = 32 bits" : "  EC = 0x25: DABT (current EL), IL = 32 bits");
  alert("  SET = 0, FnV = 0");
  alert("  EA = 0, S1PTW = 0");
  alert(`  FSC = 0x${hex(fsc, 2)}: level ${info.protection ? permLevel : level} ${info.protection ? "permission" : "translation"} fault`);
  if (!info.fetch) {
    // mem_abort_decode(): the data abort block only for a data abort
    alert("Data abort info:");
    alert(`  ISV = 0, ISS = 0x${hex(iss, 8)}`);
    alert(`  CM = 0, WnR = ${info.write ? 1 : 0}`);
  }
  if (addr >> 48n === 0xffffn && walk) {
    // show_pte() on init_mm: every level down to the one that stopped the walk.
    alert(`swapper pgtable: 4k pages, 48-bit VAs, pgdp=${hex(k.pgtable.pgdPhys, 16)}`);
    const parts = walk.steps.map((s) => `${s.level.toLowerCase()}=${hex(s.entry, 16)}`);
    alert(`[${hex(addr, 16)}] ${parts.join(", ")}`);
  } else {
    // A TTBR0 (user) address: insmod's own tables, whose top level is empty here (see the header).
    alert(`user pgtable: 4k pages, 48-bit VAs, pgdp=${hex(k.pgtable.pgdPhys, 16)}`);
    alert(`[${hex(addr, 16)}] pgd=0000000000000000, p4d=0000000000000000`);
  }
  k.printk(KERN_EMERG + "%s\n", oopsHeader(k, "Oops", esr));
  body(ip, regs);
  k.taint.add("D");
  end_trace(k);
  explain = explainFault(addr, info, what);
  return finish();

  function finish(): Report {
    return recordSplat(k, "oops", mark, { title, explain, stack });
  }
}

/**
 * __die_header's suffixes for this build: i386 non-PAE has no PTI option (PAGE_TABLE_ISOLATION needs X86_64 or
 * X86_PAE) and 32-bit x86 no KASAN; the 686-pae kernel has PTI, on for QEMU's Intel CPU (Meltdown-affected): " PTI".
 */
function fixHeader(k: Kernel, header: string): string {
  if (k.profile.arch === "i386") {
    const h = header.replace(" KASAN", "");
    return k.profile.pae ? h.replace(/ NOPTI$/, " PTI") : h.replace(/ NOPTI$/, "");
  }
  if (!k.kasan) return header.replace(" KASAN", "");
  return header;
}

/** x86 dump_pagetable() as printed (pr_cont's trailing space kept when the walk stops above the PTE). */
function dumpPagetable(k: Kernel, walk: Walk): string {
  if (k.profile.arch === "x86_64") {
    let line = formatX86Walk(walk);
    const last = walk.steps[walk.steps.length - 1];
    // p4d_offset() of a folded P4D is the PGD entry itself: printed even when the PGD is not present ("PGD 0 P4D 0 ").
    if (last && last.level === "PGD") line += ` P4D ${last.entry.toString(16)}`;
    return last && last.level === "PTE" ? line : line + " ";
  }
  if (k.profile.pae) {
    // i386 PAE: "*pdpt = %016Lx ", then (when present) "*pde = %016Lx ", then "*pte = %016Lx " below a PMD table.
    const pdpt = walk.steps[0];
    let s = `*pdpt = ${hex(pdpt?.entry ?? 0n, 16)} `;
    if (!pdpt?.present) return s;
    const pmd = walk.steps.find((st) => st.level === "PMD");
    s += `*pde = ${hex(pmd?.entry ?? 0n, 16)} `;
    const pte = walk.steps.find((st) => st.level === "PTE");
    if (pmd?.present && !pmd.leaf && pte) s += `*pte = ${hex(pte.entry, 16)} `;
    return s;
  }
  // i386 non-PAE: the PGD entry is the PMD ("*pde"), then the PTE when the PDE points to a table.
  const pde = walk.steps[0];
  let s = `*pde = ${hex(pde?.entry ?? 0n, 8)} `;
  const pte = walk.steps.find((st) => st.level === "PTE");
  if (pde?.present && !pde.leaf && pte) s += `*pte = ${hex(pte.entry, 8)} `;
  return s;
}

/** The walk as mark_rodata_ro() left it: the leaf entry without _PAGE_RW (bit 1), e.g. a text PMD 0x1e3 -> 0x1e1. */
function readOnlyLeaf(walk: Walk): Walk {
  const steps = walk.steps.map((st, i) => (i === walk.steps.length - 1 ? { ...st, entry: st.entry & ~2n } : st));
  return { ...walk, steps };
}

/** ARM show_pte(): "[addr] *pgd=..." then ", *pte=..., *ppte=..." (Linux and hardware PTE), or "(bad)" on a section. */
function showPteArm(walk: Walk | null, addr: bigint): string {
  const pgd = walk?.steps[0];
  const val = pgd?.linuxEntry ?? pgd?.entry ?? 0n;
  let s = `[${hex(addr, 8)}] *pgd=${hex(val, 8)}`;
  // pmd_none() / pmd_bad() test the first word of the 2 MiB pair, as pgd_val() prints it.
  if (!pgd || val === 0n) return s;
  if (val & 2n) return s + "(bad)";
  const pte = walk!.steps.find((st) => st.level === "PTE");
  if (pte) s += `, *pte=${hex(pte.linuxEntry ?? 0n, 8)}, *ppte=${hex(pte.entry, 8)}`;
  return s;
}

/** kasan_non_canonical_hook(): a #GP on an address that decodes to a shadow access names the original range. */
function kasanNonCanonicalHook(k: Kernel, addr: bigint): void {
  if (!k.kasan || k.profile.arch !== "x86_64") return;
  const OFFSET = 0xdffffc0000000000n;
  if (addr < OFFSET) return;
  const orig = BigInt.asUintN(64, (addr - OFFSET) << 3n);
  const type = orig < 4096n ? "null-ptr-deref" : orig < 0x7ffffffff000n ? "probably user-memory-access" : "maybe wild-memory-access";
  k.printk(KERN_ALERT + "KASAN: %s in range [0x%016lx-0x%016lx]\n", type, orig, orig + 7n);
}

/** What the address is, for the learner's explanation. */
function describe(k: Kernel, addr: bigint): string {
  const L = k.layout;
  if (addr < 4096n) return addr === 0x10n ? "ZERO_SIZE_PTR (what kmalloc(0) returns)" : "a NULL pointer (plus a small offset)";
  if (addr < L.pageOffset && (L.bits === 32 || addr < 0x800000000000n)) return "a user-space address, which the kernel never dereferences directly";
  const vm = k.vmalloc.find_vm_area(addr);
  if (vm) {
    const mapped = vm.size - (vm.noGuard ? 0 : 4096);
    if (Number(addr - vm.addr) >= mapped) return `the guard page after the ${mapped}-byte vmalloc area at 0x${vm.addr.toString(16)}`;
    return `the vmalloc area at 0x${vm.addr.toString(16)}`;
  }
  if (k.vmalloc.is_vmalloc_or_module_addr(addr)) return "the vmalloc area, where nothing is mapped (a freed or never-allocated range)";
  if (addr >= L.highMemory && addr < L.vmallocStart) return "the gap between the end of the linear map (high_memory) and VMALLOC_START";
  return "an address no page table maps";
}

function explainFault(addr: bigint, info: FaultInfo, what: string): string {
  if (info.explain) return info.explain;
  if (info.fetch)
    return `The CPU fetched its next instruction at 0x${addr.toString(16)}: ${what}. Nothing maps that page (the text of a module that was unloaded), so the CPU faulted in kernel mode; the kernel prints an Oops, kills the task and is tainted D from now on.`;
  if (info.protection)
    return `The module wrote ${info.size} byte${info.size === 1 ? "" : "s"} at 0x${addr.toString(16)}: ${what}. The kernel's text and read-only data are mapped read-only (STRICT_KERNEL_RWX: mark_rodata_ro() at the end of boot), so the CPU raised a permission fault on a present page; with no fixup for module code the kernel prints an Oops, kills the task and is tainted D.`;
  return `The module ${info.write ? "wrote" : "read"} ${info.size} byte${info.size === 1 ? "" : "s"} at 0x${addr.toString(16)}: ${what}. Nothing maps that page, so the CPU faulted in kernel mode; with no fixup for module code the kernel prints an Oops, kills the task (the rest of this function does not run) and is tainted D from now on.`;
}
