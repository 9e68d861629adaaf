// Models kernel/resource.c (the iomem_resource tree and /proc/iomem's r_show) with the resources that
// arch/x86/kernel/e820.c + setup.c, arch/arm/kernel/setup.c and arch/arm64/kernel/setup.c register, Linux 6.1
// (2.6.26 and 3.4 names where those differ: lower-case "reserved" in 2.6, "Kernel code" = _text.._etext on 3.4).
// Format: "%*s%0*llx-%0*llx : %s\n", two spaces per nesting level, at least 8 hex digits.
// Board devices are the ones of the reference boots (QEMU pc: VGA, e1000 ROM/BARs, IOAPIC, HPET, LAPIC;
// QEMU virt: PL011, PL031, PL061); the 2.6 PC lists the legacy ones only and the MSM8x25 phone lists RAM and
// kernel only (its SoC devices are not modelled). arm64's nested "reserved" entries are the memblock
// reservations outside the image (reserve_memblock_reserved_regions), page-rounded.

import type { Kernel } from "../kernel.ts";
import type { Layout, MemMapEntry, Profile, PhysRange } from "../types.ts";
import { registerProc } from "./proc.ts";

export interface IoResource {
  start: number; // inclusive
  end: number; // inclusive
  name: string;
  children?: IoResource[];
}

export function renderIomem(res: IoResource[], depth = 0): string {
  let out = "";
  for (const r of res) {
    out += `${" ".repeat(depth * 2)}${hex8(r.start)}-${hex8(r.end)} : ${r.name}\n`;
    if (r.children) out += renderIomem(r.children, depth + 1);
  }
  return out;
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, "0");
}

const KiB = 1024;

/** The resource tree for a booted kernel's profile and layout. */
export function iomemResources(k: { profile: Profile; layout: Layout }): IoResource[] {
  const { profile: p, layout: l } = k;
  switch (p.arch) {
    case "x86_64":
    case "i386":
      return x86Resources(p, l);
    case "arm":
      return armResources(p, l);
    case "arm64":
      return arm64Resources(l);
  }
}

function imagePhys(l: Layout, name: string): [number, number] {
  const s = l.image.find((x) => x.name === name);
  if (!s) return [0, 0];
  return [s.phys, s.phys + Number(s.end - s.start)];
}

/** Insert children under the top-level resource that contains them (kernel image under System RAM). */
function nest(top: IoResource[], kids: IoResource[]): void {
  for (const c of kids) {
    const parent = top.find((t) => t.start <= c.start && c.end <= t.end);
    if (parent) (parent.children ??= []).push(c);
  }
}

function x86Resources(p: Profile, l: Layout): IoResource[] {
  const old = p.era === "2.6";
  const top: IoResource[] = [];
  const typeName = (t: MemMapEntry["type"]) =>
    t === "usable" ? "System RAM" : t === "ACPI data" ? "ACPI Tables" : t === "ACPI NVS" ? "ACPI Non-volatile Storage" : old ? "reserved" : "Reserved";
  // e820__reserve_resources(): every e820 entry (a 32-bit kernel without PAE skips those beyond 4 GiB). insert_resource()
  // fails for one that ends above iomem_resource.end, which setup_arch() set to 2^x86_phys_bits - 1: QEMU's 32-bit
  // CPUs (PAE, PSE36) have no CPUID 0x80000008, so get_cpu_address_sizes() says 36 bits; qemu64 and max report 40.
  const physBits = l.bits === 32 && !old ? 36 : 40;
  for (const e of l.memMap) {
    if (l.bits === 32 && !p.pae && e.end > 0x100000000) continue;
    if (!old && e.end > 2 ** physBits) continue;
    top.push({ start: e.start, end: e.end - 1, name: typeName(e.type) });
  }
  // The legacy VGA window and the option ROMs (probe_roms) below 1 MiB.
  if (old) {
    top.push({ start: 0xa0000, end: 0xbffff, name: "Video RAM area" });
    top.push({ start: 0xc0000, end: 0xc8fff, name: "Video ROM" });
  } else {
    const vga: IoResource = { start: 0xa0000, end: 0xbffff, name: "PCI Bus 0000:00" };
    if (p.arch === "i386") vga.children = [{ start: 0xa0000, end: 0xbffff, name: "Video RAM area" }];
    top.push(vga);
    top.push({ start: 0xc0000, end: 0xc9bff, name: "Video ROM" });
    top.push({ start: 0xca000, end: 0xcadff, name: "Adapter ROM" });
    top.push({ start: 0xcb000, end: 0xcb5ff, name: "Adapter ROM" });
  }
  const sysrom = top.find((r) => r.start === 0xf0000 && r.end === 0xfffff);
  if (sysrom) sysrom.children = [{ start: 0xf0000, end: 0xfffff, name: "System ROM" }];

  // The kernel image under System RAM (setup_arch: code_resource, rodata_resource, data_resource, bss_resource).
  const [ts, te] = imagePhys(l, ".text");
  const [rs, re] = imagePhys(l, ".rodata");
  const [ds, de] = imagePhys(l, ".data");
  const [bs, be] = imagePhys(l, ".bss");
  if (old) {
    nest(top, [
      { start: ts, end: te - 1, name: "Kernel code" },
      { start: te, end: de - 1, name: "Kernel data" },
      { start: bs, end: be - 1, name: "Kernel bss" },
    ]);
  } else {
    nest(top, [
      { start: ts, end: te - 1, name: "Kernel code" },
      { start: rs, end: re - 1, name: "Kernel rodata" },
      { start: ds, end: de - 1, name: "Kernel data" },
      { start: bs, end: be - 1, name: "Kernel bss" },
    ]);
  }

  // The PCI host bridge windows from ACPI _CRS and the devices SeaBIOS placed in them (QEMU pc).
  // QEMU's _CRS window starts where low RAM (with SeaBIOS's reserved top) ends.
  const ramBelow4g = l.memMap.filter((e) => e.start < 0xe0000000).reduce((m, e) => Math.max(m, e.end), 0);
  if (!old) {
    top.push({
      start: ramBelow4g,
      end: 0xfebfffff,
      name: "PCI Bus 0000:00",
      children: [
        { start: 0xfd000000, end: 0xfdffffff, name: "0000:00:02.0" },
        { start: 0xfeb80000, end: 0xfebbffff, name: "0000:00:03.0" },
        { start: 0xfebc0000, end: 0xfebdffff, name: "0000:00:03.0" },
        { start: 0xfebf0000, end: 0xfebf0fff, name: "0000:00:02.0" },
      ],
    });
    top.push({ start: 0xfec00000, end: 0xfec003ff, name: "IOAPIC 0" });
    top.push({ start: 0xfed00000, end: 0xfed003ff, name: "HPET 0", children: [{ start: 0xfed00000, end: 0xfed003ff, name: "PNP0103:00" }] });
    top.push({ start: 0xfee00000, end: 0xfee00fff, name: "Local APIC" });
    if (l.bits === 64) {
      // QEMU's 64-bit PCI window (pci-hole64-size 2 GiB) after the RAM above 4 GiB, 1 GiB aligned.
      const ramTop = l.memMap.filter((e) => e.type === "usable").reduce((m, e) => Math.max(m, e.end), 0x100000000);
      const start = Math.ceil(Math.max(ramTop, 0x100000000) / 0x40000000) * 0x40000000;
      top.push({ start, end: start + 0x80000000 - 1, name: "PCI Bus 0000:00" });
    }
  } else {
    top.push({ start: 0xfec00000, end: 0xfec00fff, name: "IOAPIC 0" });
    top.push({ start: 0xfee00000, end: 0xfee00fff, name: "Local APIC" });
  }
  return sortTree(top);
}

function sortTree(rs: IoResource[]): IoResource[] {
  rs.sort((a, b) => a.start - b.start || b.end - a.end);
  for (const r of rs) if (r.children) sortTree(r.children);
  return rs;
}

function armResources(p: Profile, l: Layout): IoResource[] {
  const top: IoResource[] = [];
  if (p.era === "6.1") {
    top.push(
      { start: 0x09000000, end: 0x09000fff, name: "pl011@9000000", children: [{ start: 0x09000000, end: 0x09000fff, name: "9000000.pl011 pl011@9000000" }] },
      { start: 0x09010000, end: 0x09010fff, name: "pl031@9010000", children: [{ start: 0x09010000, end: 0x09010fff, name: "rtc-pl031" }] },
      { start: 0x09030000, end: 0x09030fff, name: "pl061@9030000", children: [{ start: 0x09030000, end: 0x09030fff, name: "9030000.pl061 pl061@9030000" }] },
    );
  }
  for (const r of l.memory) top.push({ start: r.start, end: r.end - 1, name: "System RAM" });
  const [ts, te] = imagePhys(l, ".text");
  const [is] = imagePhys(l, ".init");
  const [ds] = imagePhys(l, ".data");
  const [, be] = imagePhys(l, ".bss");
  // 6.1: code = _text..__init_begin-1 (text + rodata), data = _sdata.._end-1. 3.4: code = _text.._etext-1.
  const [, re] = imagePhys(l, ".rodata");
  const codeEnd = p.era === "6.1" ? is : Math.max(te, re);
  nest(top, [
    { start: ts, end: codeEnd - 1, name: "Kernel code" },
    { start: ds, end: be - 1, name: "Kernel data" },
  ]);
  return sortTree(top);
}

function arm64Resources(l: Layout): IoResource[] {
  const top: IoResource[] = [
    { start: 0x09000000, end: 0x09000fff, name: "pl011@9000000", children: [{ start: 0x09000000, end: 0x09000fff, name: "9000000.pl011 pl011@9000000" }] },
    { start: 0x09010000, end: 0x09010fff, name: "pl031@9010000", children: [{ start: 0x09010000, end: 0x09010fff, name: "rtc-pl031" }] },
    { start: 0x09030000, end: 0x09030fff, name: "pl061@9030000", children: [{ start: 0x09030000, end: 0x09030fff, name: "9030000.pl061 pl061@9030000" }] },
  ];
  for (const r of l.memory) top.push({ start: r.start, end: r.end - 1, name: "System RAM" });
  const [ts] = imagePhys(l, ".text");
  const [is] = imagePhys(l, ".init");
  const [ds] = imagePhys(l, ".data");
  const [, be] = imagePhys(l, ".bss");
  const kernel: IoResource[] = [
    { start: ts, end: is - 1, name: "Kernel code" },
    { start: ds, end: be - 1, name: "Kernel data" },
  ];
  // reserve_memblock_reserved_regions(): reserved memblock ranges, page-rounded, around the image resources.
  const page = 4 * KiB;
  let reserved: PhysRange[] = l.reservations
    .filter((r) => r.what !== "kernel image")
    .map((r) => ({ start: Math.floor(r.start / page) * page, end: Math.ceil(r.end / page) * page }));
  reserved = reserved
    .sort((a, b) => a.start - b.start)
    .reduce<PhysRange[]>((acc, r) => {
      const last = acc[acc.length - 1];
      if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else acc.push({ ...r });
      return acc;
    }, []);
  const pieces: IoResource[] = [];
  for (const r of reserved) {
    let cur = r.start;
    for (const kr of kernel) {
      if (kr.end < cur || kr.start >= r.end) continue;
      if (kr.start > cur) pieces.push({ start: cur, end: kr.start - 1, name: "reserved" });
      cur = Math.max(cur, kr.end + 1);
    }
    if (cur < r.end) pieces.push({ start: cur, end: r.end - 1, name: "reserved" });
  }
  nest(top, [...kernel, ...pieces]);
  return sortTree(top);
}

export function procIomem(k: Kernel): string {
  return renderIomem(iomemResources(k));
}

registerProc("iomem", procIomem);
