// Models fs/proc/task_mmu.c show_map_vma() (/proc/PID/maps) and fs/proc/array.c proc_pid_status() with
// task_mem() (/proc/PID/status) of Linux 6.1 / 3.4 / 2.6.26, for the process a run starts (kernel/exec.ts).
//
// maps, byte for byte: "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " then, for a named mapping, spaces up to column
// 25 + 6 * sizeof(void *) (seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) + seq_pad(m, ' ') on 6.1; the same column
// through pad_len_spaces() on 2.6.26 and 3.4) and the name: the file's path, [heap] (the VMA holding the brk
// range), [stack] (the VMA holding start_stack), the special mappings' names ([vvar], [vdso]) and the gate VMA
// ([vsyscall] on x86_64, [vectors] on 3.4 ARM). An anonymous line keeps its trailing space. The offset is the
// file offset (6.1, 3.4: 0 for anonymous memory; 2.6.26 prints vm_pgoff for every VMA, the start address of an
// anonymous one). 3.4 hides the stack guard page (the VMA's first page) from the start address.
//
// status: Name .. Groups (the era's fields), then task_mem() exactly (VmPeak .. VmSwap, RssAnon/RssFile/RssShmem
// since 4.5, VmPin since 3.2, VmSwap since 2.6.34, HugetlbPages since 4.4), then Threads. Simplifications: the
// lines after Threads (signal masks, capabilities, seccomp, cpus/mems allowed, context switches) are not
// printed; the process runs as root, started by init (PPid 1); VmPTE counts the process's table pages below the
// top level (4 KiB each).

import type { Kernel } from "../kernel.ts";
import { VM_EXEC, VM_GROWSDOWN, VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE, type Mm, type Vma } from "../mm/mmap.ts";

/** What the renderers need of a process. */
export interface ProcTask {
  pid: number;
  comm: string;
  mm: Mm;
}

const hex = (v: bigint | number, w: number) => v.toString(16).padStart(w, "0");

function vmaName(k: Kernel, mm: Mm, v: Vma): string | undefined {
  if (v.file) return v.file.path;
  if (v.special) return v.special;
  const heap = k.profile.era === "2.6" ? v.start <= mm.startBrk && v.end >= mm.brk : v.start <= mm.brk && v.end >= mm.startBrk;
  if (heap) return "[heap]";
  if (v.start <= mm.startStack && v.end >= mm.startStack) return "[stack]";
  return undefined;
}

function line(
  ptrBytes: number,
  start: bigint,
  end: bigint,
  flags: number,
  pgoff: bigint,
  dev: [number, number],
  ino: number,
  name: string | undefined,
): string {
  let s = `${hex(start, 8)}-${hex(end, 8)} ${flags & VM_READ ? "r" : "-"}${flags & VM_WRITE ? "w" : "-"}${flags & VM_EXEC ? "x" : "-"}${flags & VM_MAYSHARE ? "s" : "p"} ${hex(pgoff, 8)} ${hex(dev[0], 2)}:${hex(dev[1], 2)} ${ino} `;
  if (name !== undefined) {
    const width = 25 + 6 * ptrBytes - 1;
    if (s.length < width) s = s.padEnd(width, " ");
    s += " " + name;
  }
  return s + "\n";
}

/** /proc/PID/maps */
export function renderMaps(k: Kernel, t: ProcTask): string {
  const mm = t.mm;
  const era = k.profile.era;
  const ptr = mm.L.ptrBytes;
  let out = "";
  for (const v of mm.vmas) {
    let start = v.start;
    if (era === "3.4" && v.flags & VM_GROWSDOWN) start += 4096n; // the stack guard page is not shown
    const pgoff = v.file || era === "2.6" ? BigInt(v.pgoff) << 12n : 0n;
    out += line(ptr, start, v.end, v.flags, pgoff, v.file?.dev ?? [0, 0], v.file?.ino ?? 0, vmaName(k, mm, v));
  }
  const g = mm.L.gate;
  if (g) out += line(ptr, g[0], g[1], g[2], 0n, [0, 0], 0, g[3]);
  return out;
}

/** /proc/PID/status (see the header for what is left out). */
export function renderStatus(k: Kernel, t: ProcTask): string {
  const mm = t.mm;
  const era = k.profile.era;
  const kb = (pages: number) => String(pages * 4).padStart(8) + " kB\n";
  let s = `Name:\t${t.comm}\n`;
  if (era === "6.1") s += "Umask:\t0022\n";
  s += "State:\tR (running)\n";
  s += `Tgid:\t${t.pid}\n`;
  if (era === "6.1") s += "Ngid:\t0\n";
  s += `Pid:\t${t.pid}\nPPid:\t1\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n`;
  s += `FDSize:\t${mm.L.ptrBytes === 8 ? 64 : 32}\nGroups:\t${era === "6.1" ? "" : ""}\n`;
  if (era === "6.1") s += `NStgid:\t${t.pid}\nNSpid:\t${t.pid}\nNSpgid:\t${t.pid}\nNSsid:\t${t.pid}\n`;
  const total = mm.totalVm();
  const pages = (pred: (v: Vma) => boolean) => mm.vmas.filter(pred).reduce((n, v) => n + Number((v.end - v.start) >> 12n), 0);
  const stack = pages((v) => (v.flags & VM_GROWSDOWN) !== 0);
  let data: number;
  let exec: number;
  if (era === "6.1") {
    data = pages((v) => (v.flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) === VM_WRITE);
    exec = pages((v) => (v.flags & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) === VM_EXEC);
  } else {
    data = total - pages((v) => v.file !== undefined) - stack;
    exec = pages((v) => v.file !== undefined && (v.flags & (VM_EXEC | VM_WRITE)) === VM_EXEC);
  }
  const textKb = era === "6.1" ? Number(((mm.endCode + 4095n) & ~4095n) - (mm.startCode & ~4095n)) >> 10 : Number(mm.endCode - mm.startCode) >> 10;
  const libKb = exec * 4 - textKb;
  const rss = mm.rss();
  const pte = Math.max(0, mm.pgtable.tablePages() - (k.profile.arch === "arm" ? 4 : 1));
  s += "VmPeak:\t" + kb(Math.max(mm.hiwaterVm, total));
  s += "VmSize:\t" + kb(total);
  s += "VmLck:\t" + kb(0);
  if (era !== "2.6") s += "VmPin:\t" + kb(0);
  s += "VmHWM:\t" + kb(Math.max(mm.hiwaterRss, rss));
  s += "VmRSS:\t" + kb(rss);
  if (era === "6.1") {
    s += "RssAnon:\t" + kb(mm.rss("anon"));
    s += "RssFile:\t" + kb(mm.rss("file"));
    s += "RssShmem:\t" + kb(0);
  }
  s += "VmData:\t" + kb(data);
  s += "VmStk:\t" + kb(stack);
  s += "VmExe:\t" + String(textKb).padStart(8) + " kB\n";
  s += "VmLib:\t" + String(libKb).padStart(8) + " kB\n";
  s += "VmPTE:\t" + kb(pte);
  if (era !== "2.6") s += "VmSwap:\t" + kb(0);
  if (era === "6.1") s += "HugetlbPages:\t" + kb(0);
  if (era === "6.1") s += "CoreDumping:\t0\nTHP_enabled:\t1\n";
  s += "Threads:\t1\n";
  return s;
}
