// copy_to_user/copy_from_user's checks before the copy (6.1, src/kernel/mm/uaccess.ts checkCopySize): a length past
// INT_MAX is check_copy_size()'s WARN_ON_ONCE and nothing is copied; with CONFIG_HARDENED_USERCOPY (the Debian builds,
// --config distro) a kernel range that does not lie in one heap object is usercopy_abort()'s BUG. Before, a 64 KiB copy
// out of a kmalloc-16 object went through silently on the Debian build, and a 2^40-byte one printed KASAN's report.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import type { ConfigKind } from "../../src/kernel/types.ts";

/** A misc device whose ioctl copies n bytes between the user's buffer and `src + off` (`from`: copy_from_user). */
interface Copy {
  n: number;
  off?: number;
  from?: boolean;
}
async function copyRun(alloc: string, c: Copy, config: ConfigKind = "distro", profile = "x86_64-6.1", calls = 1) {
  const cell = `import { misc_register, misc_deregister, copy_to_user, copy_from_user, kzalloc, kmalloc, vmalloc, kmem_cache_create, kmem_cache_alloc,
  GFP_KERNEL, EFAULT, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, malloc, open, ioctl, puts } from "user";
MODULE_LICENSE("GPL");
let src = 0n;
function dev_ioctl(file: unknown, cmd: number, arg: bigint): number {
  const at = src + ${c.off ?? 0}n;
  return (${c.from ? "copy_from_user(at, arg, " : "copy_to_user(arg, at, "}${c.n})) ? -EFAULT : 0;
}
module_init(() => { src = ${alloc}; return misc_register("uc", null, null, null, dev_ioctl, null, null); });
module_exit(() => { misc_deregister("uc"); });
user_main(function main(): number {
  const buf = malloc(1 << 20), fd = open("/dev/uc", 2);
  for (let i = 0; i < ${calls}; i++) puts("ioctl " + ioctl(fd, 1, buf));
  return 0;
});
`;
  const r = await runModule(cell, { profile, config });
  const log = r.dmesg.map((l) => l.replace(/^\[[ 0-9.]+\] /, ""));
  return { r, log, out: r.user?.stdout ?? "", kinds: r.reports.map((x) => x.kind).filter((k) => k !== "leak") }; // (the buffer is kept: kmemleak)
}

describe("copy_to_user / copy_from_user: check_copy_size and hardened usercopy (6.1)", () => {
  it("a copy past its kmalloc object is usercopy_abort()'s BUG on the Debian build, naming the cache, the offset and the size", async () => {
    const { log, kinds } = await copyRun("kzalloc(16, GFP_KERNEL)", { n: 65536 });
    expect(log).toContain("usercopy: Kernel memory exposure attempt detected from SLUB object 'kmalloc-16' (offset 0, size 65536)!");
    expect(log).toContain("kernel BUG at mm/usercopy.c:102!");
    expect(log.find((l) => l.startsWith("RIP: 0010:"))).toMatch(/^RIP: 0010:usercopy_abort\+/);
    expect(log.some((l) => /^ __check_heap_object\+/.test(l))).toBe(true);
    expect(kinds).toContain("bug");
    expect(log.some((l) => l.includes("KASAN"))).toBe(false);
  });

  it("into the object at an offset: the overwrite's message; within the object (its whole kmalloc size): nothing", async () => {
    const over = await copyRun("kzalloc(100, GFP_KERNEL)", { n: 125, off: 4, from: true });
    expect(over.log).toContain("usercopy: Kernel memory overwrite attempt detected to SLUB object 'kmalloc-128' (offset 4, size 125)!");
    const fits = await copyRun("kzalloc(100, GFP_KERNEL)", { n: 124, off: 4, from: true });
    expect(fits.kinds).toEqual([]);
    expect(fits.out).toContain("ioctl 0");
  });

  it("a module's own cache has no usercopy region (kmem_cache_create): any copy out of its object BUGs", async () => {
    const { log } = await copyRun('kmem_cache_alloc(kmem_cache_create("uc_obj", 72, 0, 0, null), GFP_KERNEL)', { n: 16 }, "distro", "i386-6.1");
    expect(log).toContain("usercopy: Kernel memory exposure attempt detected from SLUB object 'uc_obj' (offset 0, size 16)!");
  });

  it("vmalloc: past the area and its guard page; a large kmalloc block: past its pages", async () => {
    const vm = await copyRun("vmalloc(10000)", { n: 16385 });
    expect(vm.log).toContain("usercopy: Kernel memory exposure attempt detected from vmalloc (offset 0, size 16385)!");
    const vmOk = await copyRun("vmalloc(10000)", { n: 12288 });
    expect(vmOk.kinds).toEqual([]);
    const large = await copyRun("kmalloc(20000, GFP_KERNEL)", { n: 32769 });
    expect(large.log).toContain("usercopy: Kernel memory exposure attempt detected from page alloc (offset 0, size 32769)!");
  });

  it("a length past INT_MAX: WARN_ON_ONCE at the call site (once), nothing copied, n returned; on the debug kernel too", async () => {
    for (const config of ["debug", "distro"] as const) {
      const { log, out, kinds } = await copyRun("kzalloc(16, GFP_KERNEL)", { n: 2 ** 40 }, config, "x86_64-6.1", 3);
      expect(log.filter((l) => l.startsWith("WARNING: CPU: 0 PID: 109 at include/linux/thread_info.h:230 dev_ioctl+"))).toHaveLength(1);
      expect(kinds).toEqual(["warn"]);
      expect(out.match(/ioctl -1/g)).toHaveLength(3);
    }
  });

  it("the debug kernel has no hardened usercopy (KASAN reports the overflow), and 2.6 has neither check", async () => {
    const dbg = await copyRun("kzalloc(16, GFP_KERNEL)", { n: 65536 }, "debug");
    expect(dbg.log.some((l) => l.startsWith("usercopy:"))).toBe(false);
    expect(dbg.kinds).toContain("kasan");
    const old = await copyRun("kzalloc(16, GFP_KERNEL)", { n: 2 ** 40 }, "distro", "i386-2.6");
    expect(old.log.some((l) => l.startsWith("usercopy:") || l.includes("thread_info.h"))).toBe(false);
  });
});
