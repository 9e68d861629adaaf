// The module side of user space (issue 19, part 2): a /proc file with seq_file read in chunks, a misc device's
// file operations called from the user program, copy_to_user/copy_from_user's return values, and mmap of kmalloc,
// __get_free_pages and vmalloc memory (VM_USERMAP) — the same frames seen from both sides.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";

type R = RunResult & { user: NonNullable<RunResult["user"]> };

async function run(module: string, program: string, profile = "x86_64-6.1"): Promise<R> {
  const src = `import { module_init, module_exit, MODULE_LICENSE, printk, KERN_INFO, NULL, EFAULT, ENOTTY, GFP_KERNEL, kzalloc, kfree, vmalloc, vmalloc_user, vfree,
  __get_free_page, free_page, virt_to_phys, virt_to_page, vmalloc_to_pfn, readb, memset, proc_create_single, remove_proc_entry, seq_printf, seq_puts,
  misc_register, misc_deregister, copy_to_user, copy_from_user, simple_read_from_buffer, remap_pfn_range, remap_vmalloc_range, vm_insert_page,
  vma_start, vma_end, vma_pgoff } from "linux";
import { user_main, malloc, open, read, write, ioctl, close, mmap, munmap, load8, store8, load_string, store_string, puts, errno,
  PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FAILED } from "user";
MODULE_LICENSE("GPL");
${module}
user_main(function main(): number {
${program}
return 0;
});
`;
  // proc_create_single is 4.18+: the old eras import the rest.
  const r = await runModule(profile.endsWith("6.1") ? src : src.replace("proc_create_single, ", ""), { profile });
  expect(r.reports.filter((x) => x.kind !== "leak").map((x) => x.title)).toEqual([]);
  expect(r.user).toBeDefined();
  return r as R;
}

const READER = (path: string, chunk: number) => `
  const buf = malloc(1 << 16);
  const fd = open("${path}", 0);
  const sizes: number[] = [];
  let text = "";
  for (;;) { const n = read(fd, buf, ${chunk}); if (n <= 0) { sizes.push(n); break; } sizes.push(n); text += load_string(buf, n); }
  close(fd);
  puts(sizes.join(","));
  puts(text);`;

describe("a /proc file with seq_file (single_open)", () => {
  const proc = (lines: number, width: number) => `
    let shows = 0;
    function show(m: any): number { shows++; for (let i = 0; i < ${lines}; i++) seq_puts(m, "${"x".repeat(width - 1)}\\n"); return 0; }
    function init(): number { return proc_create_single("demo", 0, NULL, show) === null ? -12 : 0; }
    function exit(): void { printk(KERN_INFO + "shows=%d\\n", shows); remove_proc_entry("demo", NULL); }
    module_init(init); module_exit(exit);`;

  it("a read of count bytes returns min(count, what is left): the text arrives in chunks, then 0", async () => {
    for (const [lines, width, chunk] of [
      [10, 30, 100],
      [50, 40, 512],
      [3, 7, 4096],
    ] as const) {
      const r = await run(proc(lines, width), READER("/proc/demo", chunk));
      const total = lines * width;
      const [sizes, ...rest] = r.user.stdout.split("\n");
      const expected: number[] = [];
      for (let left = total; left > 0; left -= chunk) expected.push(Math.min(chunk, left));
      expect(sizes).toBe([...expected, 0].join(","));
      expect(rest.join("\n")).toBe(`${"x".repeat(width - 1)}\n`.repeat(lines) + "\n");
    }
  });

  it("show() runs once while the text fits PAGE_SIZE - 1 bytes, again for each doubling of the buffer past it", async () => {
    // count + len < size: 4095 bytes fit a 4096-byte buffer, 4096 do not (8192), 8192 need 16384.
    for (const [total, shows] of [
      [4095, 1],
      [4096, 2],
      [8191, 2],
      [8192, 3],
    ] as const) {
      const r = await run(proc(1, total), READER("/proc/demo", 100000));
      expect(r.user.stdout.split("\n")[0]).toBe(`${total},0`);
      expect(r.dmesg.some((l) => l.endsWith(`shows=${shows}`))).toBe(true);
    }
  });
});

const DEV = `
  let kbuf = 0n, page = 0n, vbuf = 0n, ubuf = 0n;
  function dev_read(f: any, buf: bigint, count: number, ppos: any): number { return simple_read_from_buffer(buf, count, ppos, kbuf, 64); }
  function dev_write(f: any, buf: bigint, count: number, ppos: any): number {
    const left = copy_from_user(kbuf, buf, count);
    printk(KERN_INFO + "write left=%d byte0=%d byte%d=%d\\n", left, readb(kbuf), count - 1, readb(kbuf + BigInt(count - 1)));
    return left ? -EFAULT : count;
  }
  function dev_ioctl(f: any, cmd: number, arg: bigint): number { return cmd === 1 ? copy_to_user(arg, kbuf, 300) : -ENOTTY; }
  function dev_mmap(f: any, vma: any): number {
    const size = Number(vma_end(vma) - vma_start(vma));
    switch (vma_pgoff(vma)) {
      case 0: return remap_pfn_range(vma, vma_start(vma), Number(virt_to_phys(kbuf) >> 12n), size);
      case 1: return remap_vmalloc_range(vma, vbuf, 0);
      case 2: return remap_vmalloc_range(vma, ubuf, 0);
      case 3: return vm_insert_page(vma, vma_start(vma), virt_to_page(kbuf));
      default: return vm_insert_page(vma, vma_start(vma), virt_to_page(page));
    }
  }
  function init(): number {
    kbuf = kzalloc(4096, GFP_KERNEL); page = __get_free_page(GFP_KERNEL); vbuf = vmalloc(4 * 4096); ubuf = vmalloc_user(4 * 4096);
    memset(kbuf, 0x41, 64);
    printk(KERN_INFO + "kbuf pfn %lu upfn %lu %lu %lu %lu\\n", virt_to_phys(kbuf) >> 12n, vmalloc_to_pfn(ubuf), vmalloc_to_pfn(ubuf + 4096n), vmalloc_to_pfn(ubuf + 8192n), vmalloc_to_pfn(ubuf + 12288n));
    return misc_register("demo", null, dev_read, dev_write, dev_ioctl, dev_mmap, null);
  }
  function exit(): void { printk(KERN_INFO + "kernel sees %d\\n", readb(kbuf + 5n)); misc_deregister("demo"); kfree(kbuf); free_page(page); vfree(vbuf); vfree(ubuf); }
  module_init(init); module_exit(exit);`;

describe("a misc device read, written and mapped by the user program", () => {
  it("read through simple_read_from_buffer moves the file position: 64 bytes, then 0", async () => {
    const r = await run(
      DEV,
      `const b = malloc(200); const fd = open("/dev/demo", 2); puts(read(fd, b, 50) + " " + read(fd, b, 50) + " " + read(fd, b, 50) + " " + load_string(b, 3));`,
    );
    expect(r.user.stdout).toBe("50 14 0 AAA\n");
  });

  it("copy_to_user returns the bytes not copied: all for a bad pointer or a kernel address, the part past the mapping's end", async () => {
    const r = await run(
      DEV,
      `
      const fd = open("/dev/demo", 2);
      const p = mmap(0n, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      munmap(p + 4096n, 4096);
      puts([ioctl(fd, 1, 0x10n), ioctl(fd, 1, 0xffff888000000000n), ioctl(fd, 1, p + 4096n - 100n), ioctl(fd, 1, p), ioctl(fd, 7, p), errno].join(" "));`,
    );
    expect(r.user.stdout).toBe("300 300 200 0 -1 25\n");
  });

  it("copy_from_user of a buffer that runs off its mapping copies the mapped part and zeroes the rest of the kernel buffer", async () => {
    const r = await run(
      DEV,
      `
      const fd = open("/dev/demo", 2);
      const p = mmap(0n, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      store_string(p + 4096n - 10n, "0123456789");
      puts(write(fd, p + 4096n - 10n, 30) + " " + errno);`,
    );
    expect(r.user.stdout).toBe("-1 14\n");
    expect(r.dmesg.some((l) => l.endsWith("write left=20 byte0=48 byte29=0"))).toBe(true);
  });

  it("mmap of a kmalloc buffer with remap_pfn_range: the process sees the kernel's frame, and the kernel sees its store", async () => {
    const r = await run(
      DEV,
      `
      const fd = open("/dev/demo", 2);
      const p = mmap(0n, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      store8(p + 5n, 99);
      puts(load_string(p, 4) + " " + p.toString(16));`,
    );
    const pfn = Number(/kbuf pfn (\d+)/.exec(r.dmesg.join("\n"))![1]);
    const addr = r.user.stdout.trim().split(" ")[1]!;
    expect(r.user.stdout.startsWith("AAAA ")).toBe(true);
    expect(r.user.pages.find((pg) => pg.addr === "0x" + addr)).toEqual({ addr: "0x" + addr, pfn, kind: "pfnmap" });
    expect(r.dmesg.some((l) => l.endsWith("kernel sees 99"))).toBe(true);
    expect(r.user.maps).toMatch(new RegExp(`^${addr}-[0-9a-f]+ rw-s 00000000 00:05 1127 +/dev/demo$`, "m"));
  });

  it("a vmalloc buffer maps only when made with vmalloc_user (VM_USERMAP), page by page onto its scattered frames", async () => {
    const r = await run(
      DEV,
      `
      const fd = open("/dev/demo", 2);
      const bad = mmap(0n, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
      puts((bad === MAP_FAILED) + " " + errno);
      const u = mmap(0n, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * 4096);
      for (let i = 0; i < 4; i++) store8(u + BigInt(i * 4096), i);
      puts(u.toString(16));`,
    );
    const [first, second] = r.user.stdout.trim().split("\n");
    expect(first).toBe("true 22");
    const upfns = /upfn (\d+) (\d+) (\d+) (\d+)/.exec(r.dmesg.join("\n"))!.slice(1).map(Number);
    const base = BigInt("0x" + second);
    const mapped = [0, 1, 2, 3].map((i) => r.user.pages.find((pg) => BigInt(pg.addr) === base + BigInt(i * 4096))!);
    expect(mapped.map((pg) => pg.pfn)).toEqual(upfns);
    expect(mapped.every((pg) => pg.kind === "file")).toBe(true);
    // the stores did not fault: the driver mapped every page at mmap time
    expect(r.user.faults.filter((f) => BigInt(f.addr) >= base && BigInt(f.addr) < base + 4n * 4096n)).toEqual([]);
  });

  it("vm_insert_page refuses a kmalloc (slab) page on 6.1 but maps a __get_free_page page; 2.6 maps either", async () => {
    const prog = `
      const fd = open("/dev/demo", 2);
      const a = mmap(0n, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 3 * 4096);
      const e = errno;
      const b = mmap(0n, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4 * 4096);
      puts((a === MAP_FAILED) + " " + e + " " + (b === MAP_FAILED));`;
    expect((await run(DEV, prog)).user.stdout).toBe("true 22 false\n");
    expect((await run(DEV, prog, "i386-2.6")).user.stdout).toBe("false 0 false\n");
  });
});

describe("cat of a module's /proc file in the run settings (RunOptions.proc, kmodlab run --proc)", () => {
  it("reads the text while the module is loaded; after rmmod the file is gone", async () => {
    const src = `import { proc_create_single, remove_proc_entry, seq_printf, NULL, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function show(m: any): number { for (let i = 0; i < 500; i++) seq_printf(m, "%d\\n", i); return 0; }
module_init(() => { proc_create_single("counts", 0, NULL, show); return 0; });
module_exit(() => { remove_proc_entry("counts", NULL); });`;
    const r = await runModule(src, { proc: ["counts"] });
    expect(r.proc.counts).toBe(Array.from({ length: 500 }, (_, i) => `${i}\n`).join(""));
    expect(r.procAfterExit.counts).toMatch(/^\(no such file: \/proc\/counts/);
  });
});

describe("proc_create_single of a name that exists", () => {
  it("is fs/proc/generic.c proc_register()'s WARN 'already registered' and NULL, as the kernel does (grader15: a module creating /proc/kmodlab twice passed)", async () => {
    const src = `import { proc_create_single, remove_proc_entry, seq_printf, NULL, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function show(m: any): number { seq_printf(m, "hi\\n"); return 0; }
module_init(() => {
  proc_create_single("twice", 0, NULL, show);
  printk(KERN_INFO + "second %s\\n", proc_create_single("twice", 0, NULL, show) === null ? "NULL" : "made");
  return 0;
});
module_exit(() => { remove_proc_entry("twice", NULL); });`;
    const r = await runModule(src, {});
    expect(r.reports.map((x) => [x.kind, x.title])).toEqual([
      ["warn", expect.stringMatching(/^WARNING: CPU: 0 PID: \d+ at fs\/proc\/generic\.c:376 proc_register\+/)],
    ]);
    expect(r.dmesg.some((l) => l.endsWith("proc_dir_entry '/proc/twice' already registered"))).toBe(true);
    expect(r.dmesg.some((l) => l.endsWith("second NULL"))).toBe(true);
  });
});
