// Models kernel/kallsyms.c (kallsyms_lookup, sprint_symbol, 6.1; same output format in 2.6.32 and 3.4) and the
// module symbol tables that kernel/module/kallsyms.c searches.
//
// The simulator has no kernel image, so kernel text symbols are laid out on demand: each name gets a size and a
// place after the previous one in the profile's kernel text (16-byte aligned). Sizes, and the default call-site
// offset a trace shows for a function, come from the real Debian 6.1 logs in test/fixtures/real-kernel where the
// symbol appears there (x86_64 6.1.0-56-amd64, i386 6.1.0-50-686, armhf 6.1.0-50-armmp); any other symbol (and every
// symbol of the 2.6/3.4 eras and arm64) gets an invented size from a hash of its name (0x40..0x3ff), stable across
// runs; on ARM and arm64 invented sizes and offsets are multiples of 4, the instruction size. Frames passed as "name+0xoff/0xsize" keep their exact offset and size.
//
// Addresses: kernel text starts at the .text start the arch layout reports once setup_arch has run, else at the
// arch's usual link address (x86_64 0xffffffff81000000, i386 0xc1000000, ARM 0xc0100000, arm64
// 0xffff800008010000). Module symbols live in the modules area (layout.modulesVaddr, else x86_64
// 0xffffffffc0000000, i386 0xf8000000, ARM 0xbf000000, arm64 0xffff800000000000): module number i (in order of
// first registration) gets a 64 KiB slot at MODULES_VADDR + i*64 KiB unless the loader pins its base with
// setModuleBase(); its functions follow each other from the slot start, 16-byte aligned.
// A module frame's offset is derived from the cell line: with the function's first line known,
// 0x10 + 0x20*(line - firstLine) (capped below the size); otherwise 0x10 + (line*0x1c mod (size-0x10)).

import type { Arch, Era } from "../types.ts";
import { immutable } from "../snapshot.ts";

/** What kernel.ts and the rest of the kernel need of the Kernel here (kept minimal so tests can fake it). */
export interface KallsymsHost {
  profile: { arch: Arch; era: Era };
  layout?: { image?: readonly { name: string; start: bigint }[]; modulesVaddr?: bigint };
}

export interface SymbolInfo {
  name: string;
  /** Symbol start address. */
  addr: bigint;
  offset: number;
  size: number;
  module?: string;
}

// name -> [call-site offset first seen in the real log, symbol size], per arch, Linux 6.1 (Debian builds).
const REAL_61: Partial<Record<Arch, Record<string, readonly [number, number]>>> = {
  x86_64: {
    __alloc_pages: [0x2a9, 0x330],
    __bpf_trace_tick_stop: [0x10, 0x10],
    __do_sys_finit_module: [0xac, 0x120],
    __kmalloc: [0xbf, 0x150],
    __kmalloc_large_node: [0x6e, 0xe0],
    __schedule: [0x804, 0xa00],
    "__schedule_bug.cold": [0x42, 0x4e],
    __vmalloc_node: [0x4a, 0x60],
    __vmalloc_node_range: [0x806, 0x880],
    _printk: [0x68, 0x83],
    acpi_os_map_iomem: [0x1b6, 0x1d0],
    bpf_prog_alloc_no_stats: [0x31, 0x1f0],
    bpf_prog_pack_alloc: [0x292, 0x3b0],
    crypto_scomp_init_tfm: [0x75, 0xe0],
    do_filp_open: [0xaf, 0x160],
    do_init_module: [0x4a, 0x1f0],
    do_one_initcall: [0x59, 0x220],
    do_sys_openat2: [0x9b, 0x170],
    do_syscall_64: [0x5d, 0xb0],
    do_user_addr_fault: [0x1b0, 0x570],
    dump_stack_lvl: [0x44, 0x5c],
    entry_SYSCALL_64_after_hwframe: [0x6e, 0xd8],
    exit_to_user_mode_prepare: [0x44, 0x240],
    gen_pool_add_owner: [0x3a, 0xc0],
    handle_mm_fault: [0xdb, 0x2d0],
    hpet_enable: [0xef, 0x46d],
    irq_init_percpu_irqstack: [0xf0, 0x120],
    kernel_clone: [0xbf, 0x430],
    kmem_cache_free: [0x15, 0x310],
    load_module: [0xbb7, 0x21a0],
    memremap: [0x159, 0x210],
    msleep: [0x29, 0x40],
    n_tty_open: [0x14, 0xa0],
    path_openat: [0xa7d, 0x1260],
    pcpu_create_chunk: [0x167, 0x1b0],
    pcpu_get_vm_areas: [0x0, 0x1080],
    put_page: [0x6, 0x50],
    schedule: [0x5a, 0xd0],
    schedule_timeout: [0x94, 0x150],
    syscall_exit_to_user_mode: [0x1e, 0x40],
    terminate_walk: [0x61, 0x100],
    warn_alloc: [0x151, 0x170],
    wp_page_copy: [0x394, 0x720],
  },
  i386: {
    __alloc_pages: [0x21e, 0xf40],
    __bpf_trace_hrtimer_expire_entry: [0x20, 0x20],
    __do_fast_syscall_32: [0x67, 0xb0],
    __ia32_sys_finit_module: [0xa7, 0x110],
    __ia32_sys_openat: [0x6b, 0xa0],
    __kmalloc: [0xbc, 0x140],
    __kmalloc_large_node: [0x64, 0xd0],
    __mod_lruvec_page_state: [0x6c, 0xb0],
    __mod_lruvec_state: [0x2c, 0x40],
    __mod_memcg_lruvec_state: [0x37, 0x80],
    __schedule: [0x8aa, 0xa80],
    "__schedule_bug.cold": [0x3d, 0x4e],
    __vmalloc_node_range: [0x442, 0x550],
    acpi_os_map_iomem: [0x211, 0x240],
    bpf_prog_alloc_no_stats: [0x2b, 0x1b0],
    console_unlock: [0x1a3, 0x220],
    crypto_scomp_init_tfm: [0x65, 0xb0],
    do_SYSENTER_32: [0x15, 0x20],
    do_fast_syscall_32: [0x29, 0x60],
    do_init_module: [0x43, 0x1d0],
    do_one_initcall: [0x4b, 0x1f0],
    dump_stack: [0xd, 0x10],
    dump_stack_lvl: [0x34, 0x44],
    entry_SYSENTER_32: [0x98, 0xfb],
    exit_to_user_mode_prepare: [0x32, 0x1b0],
    filemap_map_pages: [0x362, 0x570],
    handle_mm_fault: [0xba4, 0xf70],
    hpet_enable: [0xc5, 0x3da],
    ia32_sys_call: [0x2635, 0x28a0],
    irqentry_exit_to_user_mode: [0xd, 0x10],
    kunmap_local_indexed: [0xac, 0xf0],
    load_module: [0x1b0b, 0x1d20],
    lock_page_memcg: [0x27, 0x30],
    memremap: [0xa9, 0x170],
    msleep: [0x2c, 0x40],
    n_tty_open: [0x16, 0x90],
    next_uptodate_page: [0x230, 0x230],
    page_add_file_rmap: [0xb7, 0x1c0],
    prb_read_valid: [0x29, 0x40],
    schedule: [0x58, 0xe0],
    schedule_timeout: [0x7b, 0x130],
    syscall_exit_to_user_mode: [0x20, 0x40],
    unlock_page_memcg: [0x3c, 0x70],
    vmalloc: [0x4f, 0x60],
    vprintk: [0x35, 0x40],
    vprintk_default: [0x15, 0x20],
    vprintk_emit: [0x206, 0x290],
    "warn_alloc.cold": [0x52, 0xbf],
  },
  arm: {
    __alloc_pages: [0xf60, 0x1094],
    __devm_ioremap_resource: [0x168, 0x1dc],
    __kmalloc: [0xe0, 0x17c],
    __kmalloc_large_node: [0x70, 0x114],
    __vmalloc_node_range: [0x510, 0x670],
    __warn: [0x80, 0x11c],
    bpf_prog_alloc_no_stats: [0x34, 0x1b0],
    crypto_scomp_init_tfm: [0xb4, 0xd8],
    devm_ioremap: [0x4c, 0x88],
    dma_common_contiguous_remap: [0x74, 0x90],
    do_init_module: [0x4c, 0x1fc],
    do_one_initcall: [0x50, 0x214],
    dump_stack_lvl: [0x40, 0x4c],
    gen_pool_add_owner: [0x34, 0xbc],
    gic_of_setup: [0x38, 0xf8],
    gicv2m_init: [0x198, 0x4c4],
    kernel_clone: [0xac, 0x3c4],
    load_module: [0xa90, 0x21c8],
    n_tty_open: [0x18, 0xa4],
    pci_reserve_io: [0x0, 0x38],
    pcpu_create_chunk: [0x16c, 0x1ac],
    pcpu_get_vm_areas: [0x0, 0x1214],
    ret_fast_syscall: [0x0, 0x1c],
    show_stack: [0x18, 0x1c],
    start_kernel: [0x550, 0x748],
    sys_finit_module: [0xcc, 0x13c],
    vmalloc: [0x64, 0x6c],
    warn_alloc: [0x10c, 0x198],
    warn_slowpath_fmt: [0x18c, 0x198],
  },
};

const TEXT_BASE: Record<Arch, bigint> = {
  x86_64: 0xffffffff81000000n,
  i386: 0xc1000000n,
  arm: 0xc0100000n,
  arm64: 0xffff800008010000n,
};
const MODULES_BASE: Record<Arch, bigint> = {
  x86_64: 0xffffffffc0000000n,
  i386: 0xf8000000n,
  arm: 0xbf000000n,
  arm64: 0xffff800000000000n,
};
const MODULE_SLOT = 0x10000;

/** FNV-1a over the name: a stable 32-bit hash for invented sizes and offsets. */
export function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface Sym {
  name: string;
  rel: number; // offset from the area's base
  size: number;
  defOff: number;
  firstLine?: number;
}

interface ModArea {
  name: string;
  index: number;
  pinned?: bigint;
  next: number;
  syms: Sym[];
  byName: Map<string, Sym>;
}

const FRAME_RE = /^([A-Za-z_.$][\w.$]*)\+0x([0-9a-f]+)\/0x([0-9a-f]+)(?: \[([\w-]+)\])?$/;

const align16 = (n: number) => (n + 15) & ~15;

/** A frame given as a bare address ("0xbf000030"): no symbol, printed as it is. */
const BARE_ADDRESS = /^0x[0-9a-f]+$/;

export class Kallsyms {
  private readonly k: KallsymsHost;
  private readonly real: Record<string, readonly [number, number]>;
  private readonly kern: Sym[] = [];
  private readonly kernByName = new Map<string, Sym>();
  private kernNext = 0;
  private readonly mods = new Map<string, ModArea>();
  private readonly modList: ModArea[] = [];

  constructor(k: KallsymsHost) {
    this.k = k;
    this.real = (k.profile.era === "6.1" && REAL_61[k.profile.arch]) || {};
    // Lay the known symbols out first, in name order, so their addresses do not depend on who asks first.
    for (const name of Object.keys(this.real).sort()) this.addKernelSymbol(name);
  }

  /** Start of kernel text: the layout's .text once setup_arch ran, else the arch's link address. */
  textBase(): bigint {
    const img = this.k.layout?.image;
    if (img) for (const s of img) if (s.name === ".text") return s.start;
    return TEXT_BASE[this.k.profile.arch];
  }

  private modulesBase(): bigint {
    return this.k.layout?.modulesVaddr ?? MODULES_BASE[this.k.profile.arch];
  }

  /**
   * The instruction size every offset and size is a multiple of: 4 on ARM (the Debian armmp kernel is built in ARM
   * mode) and arm64 (A64), whose traces never show an odd offset; 1 on x86, whose instructions are any length.
   */
  private insn(): number {
    const a = this.k.profile.arch;
    return a === "arm" || a === "arm64" ? 4 : 1;
  }

  /** The size and default offset kallsyms gives a kernel function the simulator did not see in a real log. */
  private invented(name: string): [number, number] {
    const h = nameHash(name);
    const q = this.insn();
    const size = (0x40 + (h % 0x3c0)) & -q;
    const off = (0x10 + ((h >>> 10) % (size - 0x10))) & -q;
    return [off, size];
  }

  /** Register a kernel text symbol (idempotent). size defaults to the real log's or an invented one. */
  addKernelSymbol(name: string, size?: number): bigint {
    let s = this.kernByName.get(name);
    if (!s) {
      const known = this.real[name];
      const [defOff, defSize] = known ?? this.invented(name);
      const sz = size ?? defSize;
      // never changed once made: a kernel snapshot shares it with the copies (src/kernel/snapshot.ts immutable())
      s = immutable({ name, rel: this.kernNext, size: sz, defOff: Math.min(defOff, sz - this.insn()) });
      this.kernNext = align16(this.kernNext + sz);
      this.kern.push(s);
      this.kernByName.set(name, s);
    }
    return this.textBase() + BigInt(s.rel);
  }

  private modArea(module: string): ModArea {
    let m = this.mods.get(module);
    if (!m) {
      m = { name: module, index: this.modList.length, next: 0, syms: [], byName: new Map() };
      this.mods.set(module, m);
      this.modList.push(m);
    }
    return m;
  }

  private modBase(m: ModArea): bigint {
    return m.pinned ?? this.modulesBase() + BigInt(m.index * MODULE_SLOT);
  }

  /** The module loader pins where a module's text really is (before or after adding symbols). */
  setModuleBase(module: string, base: bigint): void {
    this.modArea(module).pinned = base;
  }

  /** Register a function of a module (idempotent); returns its address. firstLine: the cell line it starts on. */
  addModuleSymbol(name: string, module: string, size: number, firstLine?: number): bigint {
    const m = this.modArea(module);
    let s = m.byName.get(name);
    if (!s) {
      if (!(size > 0)) size = (0x100 + (nameHash(module + ":" + name) % 0x300)) & -this.insn();
      s = { name, rel: m.next, size, defOff: 0x10 % size, firstLine };
      m.next = align16(m.next + size);
      m.syms.push(s);
      m.byName.set(name, s);
    } else if (firstLine !== undefined && s.firstLine === undefined) {
      s.firstLine = firstLine;
    }
    return this.modBase(m) + BigInt(s.rel);
  }

  /** Forget a module's symbols (rmmod). Its slot index stays used, as a real loader would not reuse it at once. */
  removeModule(module: string): void {
    const m = this.mods.get(module);
    if (m) {
      m.syms.length = 0;
      m.byName.clear();
      m.next = 0;
    }
  }

  /** kallsyms_lookup(): the symbol containing addr, kernel text or a module's. */
  lookup(addr: bigint): SymbolInfo | undefined {
    const tb = this.textBase();
    if (addr >= tb && addr < tb + BigInt(this.kernNext)) {
      const s = findSym(this.kern, Number(addr - tb));
      if (s) return { name: s.name, addr: tb + BigInt(s.rel), offset: Number(addr - tb) - s.rel, size: s.size };
    }
    for (const m of this.modList) {
      const base = this.modBase(m);
      if (addr < base || addr >= base + BigInt(m.next)) continue;
      const s = findSym(m.syms, Number(addr - base));
      if (s) {
        return { name: s.name, addr: base + BigInt(s.rel), offset: Number(addr - base) - s.rel, size: s.size, module: m.name };
      }
    }
    return undefined;
  }

  /** sprint_symbol() (%pS): "fn+0x1c/0x40 [cell]", or "0x<addr>" when no symbol contains addr. */
  symbolize(addr: bigint): string {
    const s = this.lookup(addr);
    if (!s) return "0x" + addr.toString(16);
    return s.name + "+0x" + s.offset.toString(16) + "/0x" + s.size.toString(16) + (s.module ? " [" + s.module + "]" : "");
  }

  /** sprint_symbol_no_offset() (%ps): "fn [cell]". */
  symbolName(addr: bigint): string {
    const s = this.lookup(addr);
    if (!s) return "0x" + addr.toString(16);
    return s.module ? s.name + " [" + s.module + "]" : s.name;
  }

  /**
   * A kernel frame as a trace prints it: "name+0xoff/0xsize". `name` may already be in that form (its offset and
   * size are kept, and the symbol is registered with that size if new); a plain name gets `offset` or the default.
   */
  frame(name: string, offset?: number): string {
    // %pS of an address no symbol covers (the text of an unloaded module) prints the bare address
    if (BARE_ADDRESS.test(name)) return name;
    // A kernel function at its default offset prints the same text once registered (kernel symbols are never
    // removed or resized): cached, since KASAN formats a dozen of them at every allocation and free.
    if (offset === undefined) {
      const hit = this.frameText.get(name);
      if (hit !== undefined) return hit;
    }
    const p = this.parseFrame(name, offset);
    const text = p.name + "+0x" + p.offset.toString(16) + "/0x" + p.size.toString(16) + (p.module ? " [" + p.module + "]" : "");
    if (offset === undefined && !p.module) this.frameText.set(name, text);
    return text;
  }
  private readonly frameText = new Map<string, string>();

  /** The address a frame stands for (symbol start + offset); registers the symbol like frame(). */
  frameAddress(name: string, offset?: number): bigint {
    const p = this.parseFrame(name, offset);
    return p.addr + BigInt(p.offset);
  }

  /** Resolve a frame spec to symbol, offset and size (registering kernel symbols as needed). */
  parseFrame(spec: string, offset?: number): SymbolInfo {
    // an address no symbol covers (the text of an unloaded module): itself, never a kernel symbol of that name
    if (BARE_ADDRESS.test(spec)) return { name: spec, addr: BigInt(spec), offset: 0, size: 0 };
    const m = FRAME_RE.exec(spec);
    if (m) {
      const [, name, off, size, module] = m;
      const sz = parseInt(size, 16);
      const addr = module ? this.addModuleSymbol(name, module, sz) : this.addKernelSymbol(name, sz);
      return { name, addr, offset: parseInt(off, 16), size: sz, module };
    }
    const addr = this.addKernelSymbol(spec);
    const s = this.kernByName.get(spec)!;
    const off = offset ?? s.defOff;
    const q = this.insn();
    return { name: spec, addr, offset: Math.min(Math.max(0, off), s.size - q) & -q, size: s.size };
  }

  /** A module frame at a cell line: "mem_module_init+0x1c/0x40 [cell]". */
  moduleFrame(fn: string, module: string, line?: number): string {
    const info = this.moduleFrameInfo(fn, module, line);
    return fn + "+0x" + info.offset.toString(16) + "/0x" + info.size.toString(16) + " [" + module + "]";
  }

  /** Symbol, offset and size of a module frame at a cell line (see the header for the offset rule). */
  moduleFrameInfo(fn: string, module: string, line?: number): SymbolInfo {
    const addr = this.addModuleSymbol(fn, module, 0);
    const s = this.mods.get(module)!.byName.get(fn)!;
    let off: number;
    if (line === undefined) off = s.defOff;
    else if (s.firstLine !== undefined) off = Math.min(0x10 + 0x20 * Math.max(0, line - s.firstLine), s.size - this.insn());
    else off = s.size > 0x10 ? 0x10 + ((line * 0x1c) % (s.size - 0x10)) : 0;
    off &= -this.insn();
    return { name: fn, addr, offset: off, size: s.size, module };
  }
}

function findSym(syms: readonly Sym[], rel: number): Sym | undefined {
  // syms are in increasing rel order (laid out one after another)
  let lo = 0,
    hi = syms.length - 1,
    best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid].rel <= rel) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return undefined;
  const s = syms[best];
  return rel < s.rel + s.size ? s : undefined;
}
