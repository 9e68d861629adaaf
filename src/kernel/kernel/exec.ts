// Models one user process of Linux 6.1 / 3.4 / 2.6.26 from exec to exit: fs/exec.c (a new mm for "a.out"),
// the system calls a simple program makes (mm/mmap.c mmap/munmap/brk, fs/open.c open/close, fs/read_write.c
// read/write, fs/ioctl.c ioctl) with the file table (fs/file.c: the lowest free descriptor), and kernel/exit.c
// (exit_files releases every open file, exit_mm tears the address space down). The kernel's own files a process
// can open: /proc/meminfo and the other /proc files of fs/proc.ts, /proc/self/maps and /proc/PID/{maps,status}
// (fs/proc_pid.ts), and whatever a module registers (fs/vfs.ts: proc_create entries, misc devices).
//
// Simplifications, said plainly: one process at a time, one thread, no fork/exec chains, no signals other than the
// fatal ones a fault raises, no blocking (a read that would sleep returns what it has), stdin is empty, and
// stdout/stderr are kept as the run's output rather than a terminal.

import { SideTable } from "../snapshot.ts";
import type { Kernel } from "../kernel.ts";
import { Mm, type Vma, type VmaFile } from "../mm/mmap.ts";
import { walkUser, copyToUser, UserSignal, type UserContext } from "../mm/uaccess.ts";
export { copyFromUser, clearUser } from "../mm/uaccess.ts";
import { signo, type SignalInfo } from "../mm/user_fault.ts";
import { lookupFile, type FileNode, type FileOps, type OpenFile } from "../fs/vfs.ts";

const EBADF = 9;
const ENOENT = 2;
const EINVAL = 22;
const ENOTTY = 25;
const ENODEV = 19;
const EFAULT = 14;
const EACCES = 13;

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;

const current = new SideTable<Kernel, Process>(); // a kernel snapshot copies it (snapshot.ts)

/** The process the CPU runs now (a file operation called from its system call sees it), or undefined. */
export function currentProcess(k: Kernel): Process | undefined {
  return current.get(k);
}

let nextFileId = 1;

export class Process implements UserContext {
  readonly k: Kernel;
  readonly pid: number;
  readonly comm: string;
  readonly mm: Mm;
  readonly fds = new Map<number, OpenFile>();
  stdout = "";
  stderr = "";
  exitCode?: number;
  signal?: SignalInfo;
  /** The cell line of the user program's current call (the fault's "ip"), set by the sandbox. */
  lineNow: () => number | undefined = () => undefined;

  constructor(k: Kernel, pid: number, comm: string) {
    this.k = k;
    this.pid = pid;
    this.comm = comm;
    const exe: VmaFile = { path: `/${comm}`, dev: k.profile.era === "6.1" ? [0, 1] : [8, 1], ino: 131 };
    this.mm = new Mm(k, exe);
    try {
      this.mm.setupExec();
    } catch (e) {
      this.mm.exitMmap(); // exec failed part way (no page-table page): what it mapped goes back
      throw e;
    }
    for (const fd of [0, 1, 2])
      this.fds.set(fd, { id: nextFileId++, path: "/dev/console", flags: fd === 0 ? O_RDONLY : O_WRONLY, pos: 0, node: { path: "/dev/console", ops: {} } });
  }

  /** seq_read() of a text the kernel rendered, into this process's buffer. */
  readonly readTextFn = (f: OpenFile, t: string, buf: bigint, count: number): number => readText(this.k, f, t, buf, count);

  ip(): bigint {
    const line = this.lineNow() ?? 0;
    const text = this.mm.vmas.find((v) => v.flags & 4 && v.file);
    return (text?.start ?? this.mm.startCode) + BigInt(16 * line);
  }

  /** Run fn as this process: current is the process (and k.current its task) for the duration. */
  run<T>(fn: () => T): T {
    const prevTask = this.k.current;
    const prevProc = current.get(this.k);
    this.k.current = { pid: this.pid, comm: this.comm };
    current.set(this.k, this);
    try {
      return fn();
    } finally {
      this.k.current = prevTask;
      if (prevProc) current.set(this.k, prevProc);
      else current.delete(this.k);
    }
  }

  // ------------------------------------------------------------------ the process's own loads and stores

  load(addr: bigint, size: 1 | 2 | 4 | 8): bigint {
    const bytes = this.readBytes(addr, size);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    return v;
  }

  store(addr: bigint, size: 1 | 2 | 4 | 8, value: bigint): void {
    const b = new Uint8Array(size);
    let v = BigInt.asUintN(size * 8, value);
    for (let i = 0; i < size; i++, v >>= 8n) b[i] = Number(v & 0xffn);
    this.writeBytes(addr, b);
  }

  readBytes(addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const pm = this.k.physmem;
    walkUser(this.k, this, addr, len, false, "user", (pa, d, n) => out.set(pm.readBytes(pa, n), d));
    return out;
  }

  writeBytes(addr: bigint, bytes: Uint8Array): void {
    const pm = this.k.physmem;
    walkUser(this.k, this, addr, bytes.length, true, "user", (pa, d, n) => pm.writeBytes(pa, bytes.subarray(d, d + n)));
  }

  fill(addr: bigint, byte: number, len: number): void {
    const pm = this.k.physmem;
    walkUser(this.k, this, addr, len, true, "user", (pa, _d, n) => pm.fill(pa, n, byte & 0xff));
  }

  // ------------------------------------------------------------------ system calls (return value or -errno)

  sysBrk(addr: bigint): bigint {
    return this.mm.sysBrk(addr);
  }

  sysMmap(addr: bigint, len: number, prot: number, flags: number, fd: number, off: number): bigint {
    if (off % 4096 !== 0 || off < 0) return -BigInt(EINVAL);
    if (flags & 0x20) return this.mm.mmap(addr, len, prot, flags);
    const f = this.fds.get(fd);
    if (!f) return -BigInt(EBADF);
    const mmapOp = f.node.ops.mmap;
    if (!mmapOp) return -BigInt(ENODEV);
    // A shared writable mapping needs a file opened for writing.
    if (flags & 1 && prot & 2 && (f.flags & 3) === O_RDONLY) return -BigInt(EACCES);
    const file: VmaFile = { path: f.path, dev: f.node.dev ?? [0, 5], ino: f.node.ino ?? 0 };
    return this.mm.mmap(addr, len, prot, flags, { file, driverMmap: (vma: Vma) => mmapOp(f, vma) }, off / 4096);
  }

  sysMunmap(addr: bigint, len: number): number {
    return this.mm.munmap(addr, len);
  }

  sysOpen(path: string, flags: number): number {
    const node: FileNode | undefined = lookupFile(this.k, path, this);
    if (!node) return -ENOENT;
    let fd = 0;
    while (this.fds.has(fd)) fd++;
    const f: OpenFile = { id: nextFileId++, path, flags, pos: 0, node };
    if (node.ops.open) {
      const r = node.ops.open(f);
      if (r < 0) return r;
    }
    this.fds.set(fd, f);
    return fd;
  }

  sysRead(fd: number, buf: bigint, count: number): number {
    const f = this.fds.get(fd);
    if (!f || (f.flags & 3) === O_WRONLY) return -EBADF;
    if (count < 0) return -EINVAL;
    if (fd === 0 && f.path === "/dev/console") return 0;
    if (!f.node.ops.read) return -EINVAL;
    return f.node.ops.read(f, buf, count);
  }

  sysWrite(fd: number, buf: bigint, count: number): number {
    const f = this.fds.get(fd);
    if (!f || (f.flags & 3) === O_RDONLY) return -EBADF;
    if (count < 0) return -EINVAL;
    if (f.path === "/dev/console") {
      // The tty copies from user memory: a bad buffer is -EFAULT.
      let bytes: Uint8Array;
      try {
        bytes = this.kernelRead(buf, count);
      } catch {
        return -EFAULT;
      }
      const s = new TextDecoder().decode(bytes);
      if (fd === 2) this.stderr += s;
      else this.stdout += s;
      return count;
    }
    if (!f.node.ops.write) return -EINVAL;
    return f.node.ops.write(f, buf, count);
  }

  /** The kernel reading the process's memory on its behalf (faults in pages; throws on a bad address). */
  private kernelRead(addr: bigint, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const pm = this.k.physmem;
    const done = walkUser(this.k, this, addr, n, false, "kernel", (pa, d, len) => out.set(pm.readBytes(pa, len), d));
    if (done < n) throw new Error("EFAULT");
    return out;
  }

  sysIoctl(fd: number, cmd: number, arg: bigint): number {
    const f = this.fds.get(fd);
    if (!f) return -EBADF;
    if (!f.node.ops.ioctl) return -ENOTTY;
    return f.node.ops.ioctl(f, cmd, arg);
  }

  sysClose(fd: number): number {
    const f = this.fds.get(fd);
    if (!f) return -EBADF;
    this.fds.delete(fd);
    this.release(f);
    return 0;
  }

  private release(f: OpenFile): void {
    // fput(): release runs when the last reference goes; an mmap of the file keeps one (not modelled: at close).
    f.node.ops.release?.(f);
  }

  /** do_exit(): files, then the address space. */
  exit(): void {
    for (const [fd, f] of [...this.fds.entries()]) {
      this.fds.delete(fd);
      this.release(f);
    }
    this.run(() => this.mm.exitMmap());
  }

  /** The wait status a shell sees (exit code << 8, or the signal number; 128 + signal in $?). */
  get shellStatus(): number {
    return this.signal ? 128 + signo(this.signal.sig) : (this.exitCode ?? 0);
  }
}

/** A text the kernel renders for a read (a /proc file): seq_read()'s copy of the rendered text from f.pos. */
export function readText(k: Kernel, f: OpenFile, text: string, buf: bigint, count: number): number {
  const bytes = new TextEncoder().encode(text);
  if (f.pos >= bytes.length || count === 0) return 0;
  const n = Math.min(count, bytes.length - f.pos);
  const src = bytes.subarray(f.pos, f.pos + n);
  const p = currentProcess(k);
  if (!p) return -EFAULT;
  const pm = k.physmem;
  const done = walkUser(k, p, buf, n, true, "kernel", (pa, d, len) => pm.writeBytes(pa, src.subarray(d, d + len)));
  if (done === 0) return -EFAULT;
  f.pos += done;
  return done;
}

export { UserSignal, copyToUser, type FileOps };
