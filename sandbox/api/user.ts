// Rows of "user": the cell's user program (sandbox/user.ts) — glibc's malloc/calloc/free (src/libc/malloc.ts),
// the system calls brk/sbrk/mmap/munmap/open/read/write/ioctl/close/getpid (src/kernel/kernel/exec.ts), errno, the
// program's own loads and stores (each one through the process's page tables and the dTLB, faulting pages in, or
// a segmentation fault), and puts for its output.
//
// Return values are glibc's: -1 (MAP_FAILED for mmap, NULL for malloc) with errno set on failure. A program has
// no pointers to dereference, so `p[i] = v` is `store8(p + BigInt(i), v)`.

import type { ApiEntry, FunctionEntry, CallEnv } from "../table.ts";
import { GuestError, p } from "../table.ts";
import { userRun } from "../user.ts";
import { LogBudgetExceeded } from "../../src/kernel/kernel/printk.ts";

const fn = (e: Omit<FunctionEntry, "kind" | "module" | "context"> & { context?: string }): FunctionEntry => ({
  kind: "function",
  module: "user",
  context: "user space (inside the program given to user_main)",
  ...e,
});

/** A raw system call's value: negative errno -> -1 with errno set (glibc's syscall wrapper). */
function sys(c: CallEnv, name: string, r: number): number {
  const run = userRun(c.k, name);
  if (r < 0 && r > -4096) {
    run.errno = -r;
    return -1;
  }
  return r;
}

const MAP_FAILED = (c: CallEnv) => (c.k.profile.arch === "x86_64" || c.k.profile.arch === "arm64" ? (1n << 64n) - 1n : (1n << 32n) - 1n);

const load = (name: string, size: 1 | 2 | 4 | 8): FunctionEntry =>
  fn({
    name,
    memory: size === 8 ? { none: "the value read (a u64), not an address" } : undefined,
    params: [p("addr", "addr")],
    returns: size === 8 ? "addr" : "uint",
    doc: `The program's load of ${size * 8} bits at addr (\`*(uint${size * 8}_t *)addr\`). A page never touched is faulted in (a minor fault); an address no mapping covers is a segmentation fault.`,
    impl: (c, addr: bigint) => {
      const v = userRun(c.k, name).proc.load(addr, size);
      return size === 8 ? v : Number(v);
    },
  });

const store = (name: string, size: 1 | 2 | 4 | 8): FunctionEntry =>
  fn({
    name,
    params: [p("addr", "addr"), p("value", size === 8 ? "addr" : "uint", size === 8 ? "a bigint" : `truncated to ${size * 8} bits`)],
    returns: "void",
    doc: `The program's store of ${size * 8} bits at addr (\`*(uint${size * 8}_t *)addr = value\`): the first write to a page faults it in; a write to a read-only or unmapped page is a segmentation fault.`,
    impl: (c, addr: bigint, value: number | bigint) => userRun(c.k, name).proc.store(addr, size, BigInt(value)),
  });

const constant = (name: string, value: number, doc: string): ApiEntry => ({ kind: "constant", module: "user", name, type: "number", value: () => value, doc });

export const USER_ROWS: ApiEntry[] = [
  {
    kind: "function",
    module: "user",
    name: "user_main",
    params: [p("main", "fn", "the program: returns its exit status (0 = success)", { params: [], returns: "int" })],
    returns: "void",
    context: "module top level",
    doc: "Name the cell's user program. After insmod (module_init returned 0) it runs as a process, \"a.out\", with its own address space: malloc, mmap, open/read/write/ioctl on the module's files, and /proc/self/maps. It exits before rmmod.",
    impl: (c, main) => {
      if (c.mod.userMain) throw new GuestError("Error", `user_main: the cell already has a user program (${c.mod.userMain.symbol || "anonymous"})`);
      c.mod.userMain = main;
    },
  },
  fn({
    name: "malloc",
    memory: { none: "user-space memory (the process's heap or an mmap), not kernel memory" },
    params: [p("size", "size")],
    returns: "addr",
    doc: "glibc's malloc: below M_MMAP_THRESHOLD (128 KiB) from the heap, which brk grows (132 KiB at first); at or above it, its own mmap. The chunk header is written at once, so the header's page is faulted in; the rest of the memory has no page until touched. NULL (0n) with errno ENOMEM on failure.",
    impl: (c, size: number) => {
      const run = userRun(c.k, "malloc");
      const mem = run.malloc.malloc(BigInt(size));
      if (!mem) run.errno = run.malloc.errno;
      else record(run, mem, BigInt(size));
      return mem;
    },
  }),
  fn({
    name: "calloc",
    memory: { none: "user-space memory (the process's heap or an mmap), not kernel memory" },
    params: [p("nmemb", "size"), p("size", "size")],
    returns: "addr",
    doc: "malloc(nmemb * size) zeroed. A chunk from its own mmap is already zero (calloc writes nothing); a heap chunk is cleared with stores, which fault its pages in.",
    impl: (c, n: number, size: number) => {
      const run = userRun(c.k, "calloc");
      const mem = run.malloc.calloc(BigInt(n), BigInt(size));
      if (!mem) run.errno = run.malloc.errno;
      else record(run, mem, BigInt(n) * BigInt(size));
      return mem;
    },
  }),
  fn({
    name: "free",
    memory: { none: "user-space memory: glibc's free (munmap for an mmapped chunk, back to the heap otherwise)" },
    params: [p("ptr", "addr")],
    returns: "void",
    doc: 'glibc\'s free. An mmapped chunk is unmapped at once (and raises the mmap threshold to its size); a heap chunk goes back to the heap, which shrinks by brk when its top passes M_TRIM_THRESHOLD. A pointer malloc never returned aborts the program ("free(): invalid pointer"), as a double free does.',
    impl: (c, ptr: bigint) => userRun(c.k, "free").malloc.free(ptr),
  }),
  fn({
    name: "brk",
    params: [p("addr", "addr")],
    returns: "int",
    doc: "Set the program break (the end of the heap) to addr: 0, or -1 with errno ENOMEM when the kernel refused.",
    impl: (c, addr: bigint) => {
      const run = userRun(c.k, "brk");
      const got = run.proc.sysBrk(addr);
      if (got !== addr) {
        run.errno = 12;
        return -1;
      }
      return 0;
    },
  }),
  fn({
    name: "sbrk",
    memory: { none: "the old program break (user space)" },
    params: [p("increment", "int")],
    returns: "addr",
    doc: "Move the program break by increment bytes; returns the old break, or (void *)-1 with errno ENOMEM. sbrk(0) reads it.",
    impl: (c, inc: number) => {
      const run = userRun(c.k, "sbrk");
      const old = run.proc.sysBrk(0n);
      if (inc === 0) return old;
      const got = run.proc.sysBrk(old + BigInt(inc));
      if (got !== old + BigInt(inc)) {
        run.errno = 12;
        return MAP_FAILED(c);
      }
      return old;
    },
  }),
  fn({
    name: "mmap",
    memory: { none: "a user-space mapping (the process's VMAs), not kernel memory" },
    params: [
      p("addr", "addr", "a hint, or the address with MAP_FIXED; 0n to let the kernel choose"),
      p("length", "size"),
      p("prot", "int", "PROT_READ | PROT_WRITE ..."),
      p("flags", "int", "MAP_PRIVATE | MAP_ANONYMOUS, or MAP_SHARED for a device"),
      p("fd", "int", "-1 for anonymous memory, or a file descriptor from open()"),
      p("offset", "size", "a multiple of the page size"),
    ],
    returns: "addr",
    doc: "Map memory: a new VMA, placed top-down below mmap_base (just under the stack's gap). No page exists until touched. A device's mmap is its driver's file_operations.mmap. MAP_FAILED with errno on failure.",
    impl: (c, addr: bigint, len: number, prot: number, flags: number, fd: number, off: number) => {
      const run = userRun(c.k, "mmap");
      const r = run.proc.sysMmap(addr, len, prot, flags, fd, off);
      if (r < 0n) {
        run.errno = Number(-r);
        return MAP_FAILED(c);
      }
      return r;
    },
  }),
  fn({
    name: "munmap",
    memory: { none: "user space: ends a mapping of the process (its pages go back through the kernel's own paths)" },
    params: [p("addr", "addr"), p("length", "size")],
    returns: "int",
    doc: "Unmap [addr, addr+length): the VMAs are split at the edges, their pages freed, the TLB flushed. 0, or -1 with errno EINVAL.",
    impl: (c, addr: bigint, len: number) => sys(c, "munmap", userRun(c.k, "munmap").proc.sysMunmap(addr, len)),
  }),
  fn({
    name: "open",
    params: [
      p("path", "string", '"/proc/self/maps", "/proc/meminfo", a module\'s "/proc/NAME" or "/dev/NAME"'),
      p("flags", "int", "O_RDONLY, O_WRONLY or O_RDWR"),
    ],
    returns: "int",
    doc: "Open a file: the lowest free descriptor, or -1 with errno (ENOENT when nothing has that name).",
    impl: (c, path: string, flags: number) => sys(c, "open", userRun(c.k, "open").proc.sysOpen(path, flags)),
  }),
  fn({
    name: "read",
    params: [p("fd", "int"), p("buf", "addr", "user memory the kernel writes into"), p("count", "size")],
    returns: "int",
    doc: "Read up to count bytes into buf: the bytes read (0 at the end), or -1 with errno (EFAULT for a buffer the kernel could not write).",
    impl: (c, fd: number, buf: bigint, count: number) => sys(c, "read", userRun(c.k, "read").proc.sysRead(fd, buf, count)),
  }),
  fn({
    name: "write",
    params: [p("fd", "int", "1 is standard output"), p("buf", "addr"), p("count", "size")],
    returns: "int",
    doc: "Write count bytes from buf: the bytes written, or -1 with errno. What a program writes counts against the run's log size limit, as printk's text does (to any file: a simplification; the run's output is not a terminal that drains).",
    // stdout and stderr are kept whole in the RunResult: a loop of write(1, buf, 1 MiB) grew them without bound
    countsLog: true,
    impl: (c, fd: number, buf: bigint, count: number) => {
      if (count > c.k.log.budget) throw new LogBudgetExceeded(count);
      return sys(c, "write", userRun(c.k, "write").proc.sysWrite(fd, buf, count));
    },
  }),
  fn({
    name: "ioctl",
    params: [p("fd", "int"), p("cmd", "uint"), p("arg", "addr", "a number or a user pointer, as the command defines")],
    returns: "int",
    doc: "A device command: the driver's unlocked_ioctl. -1 with errno ENOTTY when the file has none.",
    impl: (c, fd: number, cmd: number, arg: bigint) => sys(c, "ioctl", userRun(c.k, "ioctl").proc.sysIoctl(fd, cmd, arg)),
  }),
  fn({
    name: "close",
    params: [p("fd", "int")],
    returns: "int",
    doc: "Close a descriptor (the driver's release runs): 0, or -1 with errno EBADF.",
    impl: (c, fd: number) => sys(c, "close", userRun(c.k, "close").proc.sysClose(fd)),
  }),
  fn({
    name: "getpid",
    params: [],
    returns: "int",
    doc: "The process's pid.",
    impl: (c) => userRun(c.k, "getpid").proc.pid,
  }),
  {
    kind: "variable",
    module: "user",
    name: "errno",
    type: "number",
    get: (c) => userRun(c.k, "errno").errno,
    doc: "The error of the last failed call (ENOMEM 12, EFAULT 14, EINVAL 22...), as glibc's errno.",
  },
  load("load8", 1),
  load("load16", 2),
  load("load32", 4),
  load("load64", 8),
  store("store8", 1),
  store("store16", 2),
  store("store32", 4),
  store("store64", 8),
  fn({
    name: "fill",
    memory: { none: "user memory, returned unchanged" },
    params: [p("s", "addr"), p("c", "int"), p("n", "size")],
    returns: "addr",
    doc: "The program's memset(s, c, n): page by page, faulting each page in as the stores reach it.",
    impl: (c, s: bigint, ch: number, n: number) => {
      userRun(c.k, "fill").proc.fill(s, ch, n);
      return s;
    },
  }),
  fn({
    name: "load_string",
    params: [p("addr", "addr"), p("max", "size", "the most bytes to read")],
    returns: "string",
    doc: "The program's bytes at addr as text, up to the first NUL or max bytes (loads, like a strnlen + printf of a buffer read()).",
    impl: (c, addr: bigint, max: number) => {
      const proc = userRun(c.k, "load_string").proc;
      const bytes = proc.readBytes(addr, max);
      const end = bytes.indexOf(0);
      return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
    },
  }),
  fn({
    name: "store_string",
    params: [p("addr", "addr"), p("s", "string")],
    returns: "int",
    doc: "Store the UTF-8 bytes of s at addr, without a NUL (strcpy without the terminator): returns the byte count.",
    impl: (c, addr: bigint, s: string) => {
      const bytes = new TextEncoder().encode(s);
      userRun(c.k, "store_string").proc.writeBytes(addr, bytes);
      return bytes.length;
    },
  }),
  fn({
    name: "puts",
    params: [p("s", "string")],
    returns: "int",
    doc: "Print s and a newline on standard output (the run's user output). stdio's own buffer is not modelled: it takes no heap memory here. Counts against the run's log size limit, as printk's text does.",
    // the run's stdout is kept whole in the RunResult: a loop of puts of a 4 MB string held 400 MB and 1.6 GB of the
    // host in 2 s
    countsLog: true,
    impl: (c, s: string) => {
      if (s.length + 1 > c.k.log.budget) throw new LogBudgetExceeded(s.length + 1);
      const proc = userRun(c.k, "puts").proc;
      proc.stdout += s + "\n";
      return s.length + 1;
    },
  }),
  constant("PROT_NONE", 0, "No access."),
  constant("PROT_READ", 1, "Pages may be read."),
  constant("PROT_WRITE", 2, "Pages may be written."),
  constant("PROT_EXEC", 4, "Pages may be executed."),
  constant("MAP_SHARED", 0x01, "Share the mapping (a device's buffer: the same frames the driver has)."),
  constant("MAP_PRIVATE", 0x02, "A private copy-on-write mapping."),
  constant("MAP_FIXED", 0x10, "Place the mapping exactly at addr (replacing what is there)."),
  constant("MAP_ANONYMOUS", 0x20, "Memory not backed by a file: zero-filled on first touch."),
  {
    kind: "constant",
    module: "user",
    name: "MAP_FAILED",
    type: "addr",
    value: (k) => (k.profile.arch === "x86_64" || k.profile.arch === "arm64" ? (1n << 64n) - 1n : (1n << 32n) - 1n),
    doc: "(void *)-1: what mmap returns on failure.",
  },
  constant("O_RDONLY", 0, "Open for reading."),
  constant("O_WRONLY", 1, "Open for writing."),
  constant("O_RDWR", 2, "Open for reading and writing."),
];

function record(run: ReturnType<typeof userRun>, mem: bigint, size: bigint): void {
  const ch = run.malloc.chunkOf(mem);
  if (ch && run.allocations.length < 10000)
    run.allocations.push({
      ptr: "0x" + mem.toString(16),
      size: "0x" + size.toString(16),
      chunk: "0x" + ch.chunk.toString(16),
      chunkSize: "0x" + ch.size.toString(16),
      mmapped: ch.mmapped,
    });
}
