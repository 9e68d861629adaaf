// The boot's Memory: line (mm/page_alloc.c mem_init_print_info) against the real Debian 6.1 boots, byte for byte apart
// from the timestamp: the "available" and "reserved" figures follow from the memblock allocations the kernel makes
// before mem_init() (arch/early_memblock.ts and the arch files) and, on x86_64, from deferred struct page init and
// preallocate_vmalloc_pages().
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import { realBootLines } from "./real-kernel.ts";

const MiB = 2 ** 20;

/** The log's command line: x86_64 prints "Command line:", every arch "Kernel command line:". */
function cmdlineOf(lines: string[]): string {
  const l = lines.find((x) => x.startsWith("Kernel command line: "))!;
  return l.slice("Kernel command line: ".length);
}

describe("the Memory: line equals the real boot's", () => {
  for (const b of [
    { log: "x86_64-512M-nokaslr.log", profile: "x86_64-6.1", mem: 512 },
    { log: "i386-1G.log", profile: "i386-6.1", mem: 1024 },
    { log: "armhf-virt-1G.log", profile: "arm-6.1-virt", mem: 1024 },
  ]) {
    it(`${b.profile} ${b.mem}M: available, reserved, cma-reserved and highmem as the real boot prints them`, () => {
      const real = realBootLines(b.log, /^SLUB: /);
      const want = real.find((l) => l.startsWith("Memory: "))!;
      const k = boot(b.profile, { mem: b.mem * MiB, config: "distro", cmdline: cmdlineOf(real), userspace: false });
      expect(k.log.texts(0).find((l) => l.startsWith("Memory: "))).toBe(want);
    });
  }
});
