// Models the arch dispatch of setup_arch() (arch/*/kernel/setup.c) and the mem_init() layout prints of
// arch/x86/mm/init_32.c (2.6.26: "virtual kernel memory layout:") and arch/arm/mm/init.c (3.4:
// "Virtual kernel memory layout:"). Both prints were removed later (ARM in 5.1, x86_32 in 5.7, arm64 in
// 4.16), so the 6.1 profiles print nothing here.

import type { Layout } from "../types.ts";
import { type ArchKernel, KERN_INFO, KERN_NOTICE } from "./common.ts";
import { setupX86_64 } from "./x86_64.ts";
import { setupI386, LAST_PKMAP as X86_LAST_PKMAP } from "./i386.ts";
import { setupArm, VECTORS_BASE, LAST_PKMAP as ARM_LAST_PKMAP } from "./arm.ts";
import { setupArm64 } from "./arm64.ts";

export type { ArchKernel } from "./common.ts";

/** setup_arch(): compute the layout from RAM, command line and seed, and print the arch's boot lines. */
export function setup_arch(k: ArchKernel): Layout {
  switch (k.profile.arch) {
    case "x86_64":
      return setupX86_64(k);
    case "i386":
      return setupI386(k);
    case "arm":
      return setupArm(k);
    case "arm64":
      return setupArm64(k);
  }
}

const h8 = (v: bigint | number) => v.toString(16).padStart(8, "0");
const w4 = (v: number) => String(v).padStart(4, " ");
function sect(l: Layout, name: string): [bigint, bigint] {
  const s = l.image.find((x) => x.name === name);
  return s ? [s.start, s.end] : [0n, 0n];
}

/** The boot-time layout print of mem_init() for the eras that had one, after "Memory:". */
export function mem_init_print(k: ArchKernel & { layout: Layout }): void {
  const l = k.layout;
  const { arch, era } = k.profile;
  if (arch === "i386" && era === "2.6") {
    // arch/x86/mm/init_32.c mem_init(), 2.6.26: one printk, KERN_INFO.
    const kb = (a: bigint, b: bigint) => w4(Number((b - a) >> 10n));
    const mbs = (a: bigint, b: bigint) => w4(Number((b - a) >> 20n));
    const pk = l.pkmapBase!;
    const pkEnd = pk + BigInt(X86_LAST_PKMAP * 4096);
    const [text, etext] = sect(l, ".text");
    const [, edata] = sect(l, ".data");
    const [ib, ie] = sect(l, ".init");
    const lines = [
      "virtual kernel memory layout:",
      `    fixmap  : 0x${h8(l.fixaddrStart)} - 0x${h8(l.fixaddrTop)}   (${kb(l.fixaddrStart, l.fixaddrTop)} kB)`,
      `    pkmap   : 0x${h8(pk)} - 0x${h8(pkEnd)}   (${kb(pk, pkEnd)} kB)`,
      `    vmalloc : 0x${h8(l.vmallocStart)} - 0x${h8(l.vmallocEnd)}   (${mbs(l.vmallocStart, l.vmallocEnd)} MB)`,
      `    lowmem  : 0x${h8(l.pageOffset)} - 0x${h8(l.highMemory)}   (${mbs(l.pageOffset, l.highMemory)} MB)`,
      `      .init : 0x${h8(ib)} - 0x${h8(ie)}   (${kb(ib, ie)} kB)`,
      `      .data : 0x${h8(etext)} - 0x${h8(edata)}   (${kb(etext, edata)} kB)`,
      `      .text : 0x${h8(text)} - 0x${h8(etext)}   (${kb(text, etext)} kB)`,
    ];
    for (const line of lines) k.printk(KERN_INFO + "%s\n", line);
  } else if (arch === "arm" && era === "3.4") {
    // arch/arm/mm/init.c mem_init(), 3.4: MLK, MLM, MLK_ROUNDUP; %p printed raw (8 hex digits).
    const MLK = (a: bigint, b: bigint) => `0x${h8(a)} - 0x${h8(b)}   (${w4(Number((b - a) >> 10n))} kB)`;
    const MLM = (a: bigint, b: bigint) => `0x${h8(a)} - 0x${h8(b)}   (${w4(Number((b - a) >> 20n))} MB)`;
    const MLKR = (a: bigint, b: bigint) => `0x${h8(a)} - 0x${h8(b)}   (${w4(Math.ceil(Number(b - a) / 1024))} kB)`;
    const v = BigInt(VECTORS_BASE);
    const pk = l.pkmapBase!;
    const [text] = sect(l, ".text");
    const [, etext] = sect(l, ".rodata");
    const lines = [
      "Virtual kernel memory layout:",
      `    vector  : ${MLK(v, v + 4096n)}`,
      `    fixmap  : ${MLK(l.fixaddrStart, l.fixaddrTop)}`,
      `    vmalloc : ${MLM(l.vmallocStart, l.vmallocEnd)}`,
      `    lowmem  : ${MLM(l.pageOffset, l.highMemory)}`,
      `    pkmap   : ${MLM(pk, pk + BigInt(ARM_LAST_PKMAP * 4096))}`,
      `    modules : ${MLM(l.modulesVaddr, l.modulesEnd)}`,
      `      .text : ${MLKR(text, etext)}`,
      `      .init : ${MLKR(...sect(l, ".init"))}`,
      `      .data : ${MLKR(...sect(l, ".data"))}`,
      `       .bss : ${MLKR(...sect(l, ".bss"))}`,
    ];
    for (const line of lines) k.printk(KERN_NOTICE + "%s\n", line);
  }
}
