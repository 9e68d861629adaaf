// Rows: the module side of user space — a /proc file with seq_file (fs/proc/generic.c proc_create_single,
// fs/seq_file.c), a misc character device with its file_operations (drivers/char/misc.c), the user copies
// (include/linux/uaccess.h copy_to_user/copy_from_user/clear_user, fs/libfs.c simple_read_from_buffer and
// simple_write_to_buffer), and mmap of kernel memory (mm/memory.c remap_pfn_range/vm_insert_page, mm/vmalloc.c
// remap_vmalloc_range). The kernel parts: src/kernel/fs/seq_file.ts, drivers/misc.ts, mm/uaccess.ts, mm/remap.ts.
//
// A module has no structs, so the file operations are misc_register()'s arguments (null for one it has not), and
// `vma->vm_start` is vma_start(vma). The file operations run in the process that made the system call (the cell's
// user program, "a.out"), so `current` is it and copy_to_user reaches its memory. remap_pfn_range takes no pgprot
// argument here: the VMA's own protection (vma->vm_page_prot) is always what is used.

import type { ApiEntry, FunctionEntry, HostCallback, CallEnv } from "../table.ts";
import { GuestError, p } from "../table.ts";
import { handles } from "./handles.ts";
import { SeqFile, seqRead } from "../../src/kernel/fs/seq_file.ts";
import { registerNode, unregisterNode, type FileOps, type OpenFile } from "../../src/kernel/fs/vfs.ts";
import { miscDeregister, miscRegister } from "../../src/kernel/drivers/misc.ts";
import { checkCopySize, copyFromUser, copyToUser, clearUser, walkUser } from "../../src/kernel/mm/uaccess.ts";
import { currentProcess } from "../../src/kernel/kernel/exec.ts";
import { remapPfnRange, remapVmallocRange, vmInsertPage } from "../../src/kernel/mm/remap.ts";
import { utf8Length } from "../../src/kernel/mm/slub.ts";
import { warn } from "../../src/kernel/debug/splat.ts";

/** The longest /proc entry name (fs/proc/generic.c __proc_create refuses a name of 256 bytes or more). */
const PROC_NAME_MAX = 255;
import type { Vma } from "../../src/kernel/mm/mmap.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";

const fn = (e: Omit<FunctionEntry, "kind" | "module">): FunctionEntry => ({ kind: "function", module: "linux", ...e });
const cls = (name: string, doc: string, madeWith: string): ApiEntry => ({ kind: "class", module: "linux", name, doc, madeWith });

/** loff_t *ppos of a read/write: the file's position (vfs_read passes &file->f_pos's copy and stores it back). */
interface Ppos {
  f: OpenFile;
}
const pposOf = new WeakMap<OpenFile, Ppos>();
const ppos = (f: OpenFile): Ppos => {
  let q = pposOf.get(f);
  if (!q) pposOf.set(f, (q = { f }));
  return q;
};

/** A module callback's ssize_t/int result: a number, or -EINVAL when it returned nothing usable (it threw). */
const ret = (v: unknown): number => (typeof v === "number" && Number.isInteger(v) ? v : -22);

const cur = (k: Kernel) => currentProcess(k);

function fileId(k: Kernel, f: OpenFile): number {
  return handles(k).idOf("file", f);
}

/** The file_operations a module's misc_register arguments make. */
function fops(
  c: CallEnv,
  open: HostCallback | null,
  read: HostCallback | null,
  write: HostCallback | null,
  ioctl: HostCallback | null,
  mmap: HostCallback | null,
  release: HostCallback | null,
): FileOps {
  const k = c.k;
  const h = handles(k);
  return {
    ...(open ? { open: (f: OpenFile) => ret(open(fileId(k, f))) } : {}),
    ...(read ? { read: (f: OpenFile, buf: bigint, count: number) => ret(read(fileId(k, f), buf, count, h.idOf("loff_t", ppos(f)))) } : {}),
    ...(write ? { write: (f: OpenFile, buf: bigint, count: number) => ret(write(fileId(k, f), buf, count, h.idOf("loff_t", ppos(f)))) } : {}),
    ...(ioctl ? { ioctl: (f: OpenFile, cmd: number, arg: bigint) => ret(ioctl(fileId(k, f), cmd, arg)) } : {}),
    ...(mmap ? { mmap: (f: OpenFile, vma: Vma) => ret(mmap(fileId(k, f), h.idOf("vm_area_struct", vma))) } : {}),
    ...(release ? { release: (f: OpenFile) => ret(release(fileId(k, f))) } : {}),
  };
}

const fop = (
  name: string,
  params: { name: string; type: "handle:file" | "addr" | "size" | "uint" | "handle:loff_t" | "handle:vm_area_struct" }[],
  doc: string,
) => p(name, "fn", doc, { params, returns: "int" }, true);

const FILE = { name: "file", type: "handle:file" as const };

function vmaArg(c: CallEnv, id: number, fnName: string): { vma: Vma; mm: NonNullable<ReturnType<typeof cur>>["mm"] } {
  const vma = handles(c.k).get<Vma>(id, fnName);
  const proc = cur(c.k);
  if (!proc || !proc.mm.vmas.includes(vma))
    throw new GuestError("Error", `${fnName}: this vm_area_struct is not a mapping being made now (use it inside your mmap file operation)`);
  return { vma, mm: proc.mm };
}

export const CHARDEV_ROWS: ApiEntry[] = [
  cls("seq_file", "struct seq_file: the buffer a /proc file's show() prints into (seq_printf).", "proc_create_single (it is passed to your show function)"),
  cls("file", "struct file: one open of a file, passed to every file operation.", "the kernel (it is passed to your file operations)"),
  cls(
    "loff_t",
    "loff_t *ppos: the file position a read or write starts at and moves (simple_read_from_buffer updates it).",
    "the kernel (it is passed to your read and write)",
  ),
  cls(
    "vm_area_struct",
    "struct vm_area_struct: the process's new mapping your mmap fills (vma_start/vma_end, remap_pfn_range...).",
    "the kernel (it is passed to your mmap)",
  ),
  cls("proc_dir_entry", "struct proc_dir_entry: a /proc entry.", "proc_create_single"),
  fn({
    name: "proc_create_single",
    since: "6.1",
    absentNote: "added in 4.18; before it, proc_create() with a file_operations whose open calls single_open()",
    memory: { none: "a /proc entry (remove it with remove_proc_entry), not memory the module frees" },
    params: [
      p("name", "string", 'the file: "/proc/NAME"'),
      p("mode", "uint", "permissions, e.g. 0o444; 0 means 0444"),
      p("parent", "addr", "NULL for /proc itself"),
      p("show", "fn", "prints the file's text with seq_printf; returns 0", { params: [{ name: "m", type: "handle:seq_file" }], returns: "int" }),
    ],
    returns: "handle:proc_dir_entry",
    context: "may sleep (process context)",
    doc: "Create /proc/NAME whose text is what show(m) prints with seq_printf. A reader gets it with single_open()'s seq_read: the text is made at the first read into a PAGE_SIZE buffer (doubled and show() called again while it does not fit) and copied out in as many reads as the reader makes. NULL if the name exists, with the kernel's WARN \"proc_dir_entry '/proc/NAME' already registered\".",
    impl: (c, name: string, _mode: number, parent: bigint, show: HostCallback) => {
      if (parent !== 0n) throw new GuestError("Error", "proc_create_single: only NULL (the /proc directory itself) is a parent here");
      // fs/proc/generic.c __proc_create: a name of 0 or 256 and more bytes is the kernel's WARN "name len %u" and NULL
      // (here an error, as the other names it refuses: the WARN's splat is not modelled)
      const len = utf8Length(name);
      if (len === 0 || len > PROC_NAME_MAX) {
        const got = name.length > 64 ? `a name of ${name.length} characters` : `"${name}"`;
        throw new GuestError(
          "Error",
          `proc_create_single: a /proc name is 1 to ${PROC_NAME_MAX} bytes, got ${got} (the kernel WARNs "name len ${len}" and returns NULL)`,
        );
      }
      if (!/^[A-Za-z0-9_.-]+$/.test(name))
        throw new GuestError("Error", `proc_create_single: "${name}" is not a file name (no slashes; directories are not modelled)`);
      const k = c.k;
      const h = handles(k);
      const node = {
        path: `/proc/${name}`,
        dev: [0, 5] as [number, number],
        ino: 0,
        owner: c.mod.name,
        ops: {
          open: (f: OpenFile) => {
            f.priv = new SeqFile(k);
            return 0;
          },
          read: (f: OpenFile, buf: bigint, count: number) =>
            seqRead(
              f.priv as SeqFile,
              (m) => ret(show(h.idOf("seq_file", m))),
              count,
              (bytes) => {
                const p = cur(k);
                if (!p) return bytes.length;
                return copyBytesToUser(k, p, buf, bytes);
              },
            ),
        } satisfies FileOps,
        // cat: open, read in 128 KiB chunks (cat's buffer) until 0, close; the text as the reader gets it.
        cat: () => {
          const m = new SeqFile(k);
          let text = "";
          for (;;) {
            const n = seqRead(
              m,
              (mm) => ret(show(h.idOf("seq_file", mm))),
              131072,
              (bytes) => {
                text += new TextDecoder().decode(bytes);
                return 0;
              },
            );
            if (n < 0) return `cat: /proc/${name}: error ${-n}`;
            if (n === 0) return text;
          }
        },
      };
      if (!registerNode(k, node)) {
        // fs/proc/generic.c proc_register(): pde_subdir_insert() finds the name taken, WARN(1, "proc_dir_entry '%s/%s'
        // already registered\n", dir->name, dp->name) (proc_root's name is "/proc") and NULL. Line 376 in 6.1.
        warn(k, {
          file: "fs/proc/generic.c",
          line: 376,
          fn: "proc_register",
          kernelFrames: ["proc_create_single_data"],
          message: `proc_dir_entry '/proc/${name}' already registered`,
          explain: `/proc/${name} exists already (made twice, or not removed): proc_create_single returned NULL.`,
        });
        return 0;
      }
      return h.idOf("proc_dir_entry", node);
    },
  }),
  fn({
    name: "remove_proc_entry",
    memory: { none: "removes a /proc entry" },
    params: [p("name", "string"), p("parent", "addr", "NULL")],
    returns: "void",
    context: "may sleep (process context)",
    doc: "Remove /proc/NAME (in module_exit). A name that does not exist: the kernel's WARN 'name not found'.",
    impl: (c, name: string) => {
      // The kernel WARNs "name '%s'" (fs/proc/generic.c) for a name it does not have: its splat is not modelled.
      if (!unregisterNode(c.k, `/proc/${name}`)) {
        const shown = name.length > 64 ? `of ${name.length} characters` : `named "${name}"`;
        throw new GuestError("Error", `remove_proc_entry: no /proc entry ${shown} (the kernel would WARN "name '...'")`);
      }
    },
  }),
  fn({
    name: "seq_printf",
    params: [p("m", "handle:seq_file"), p("fmt", "string"), p("args", "printk-args")],
    returns: "void",
    context: "inside a show function",
    doc: "Print into the seq_file's buffer with the kernel's vsprintf. Text that does not fit marks the buffer overflowed: seq_read then doubles it and calls show() again.",
    impl: (c, m: number, fmt: string, ...args: (number | bigint | string)[]) => handles(c.k).get<SeqFile>(m, "seq_printf").printf(fmt, args),
  }),
  fn({
    name: "seq_puts",
    params: [p("m", "handle:seq_file"), p("s", "string")],
    returns: "void",
    context: "inside a show function",
    doc: "Append s to the seq_file's buffer (or mark it overflowed).",
    impl: (c, m: number, s: string) => handles(c.k).get<SeqFile>(m, "seq_puts").puts(s),
  }),
  fn({
    name: "misc_register",
    params: [
      p("name", "string", 'the device: "/dev/NAME"'),
      fop("open", [FILE], "open(file): 0 or -errno; null for none"),
      fop(
        "read",
        [FILE, { name: "buf", type: "addr" }, { name: "count", type: "size" }, { name: "ppos", type: "handle:loff_t" }],
        "read(file, buf, count, ppos): bytes read (copy_to_user into buf), 0 at the end, or -errno",
      ),
      fop(
        "write",
        [FILE, { name: "buf", type: "addr" }, { name: "count", type: "size" }, { name: "ppos", type: "handle:loff_t" }],
        "write(file, buf, count, ppos): bytes taken (copy_from_user), or -errno",
      ),
      fop(
        "unlocked_ioctl",
        [FILE, { name: "cmd", type: "uint" }, { name: "arg", type: "addr" }],
        "unlocked_ioctl(file, cmd, arg): 0 or -errno (-ENOTTY for an unknown command)",
      ),
      fop("mmap", [FILE, { name: "vma", type: "handle:vm_area_struct" }], "mmap(file, vma): map memory into vma (remap_pfn_range...), 0 or -errno"),
      fop("release", [FILE], "release(file): the last close"),
    ],
    returns: "int",
    context: "may sleep (process context)",
    doc: "Register a misc character device /dev/NAME (major 10, a dynamic minor) whose file operations are these functions (null for one the device does not have). 0, or -EBUSY if the name is taken. Call misc_deregister in module_exit.",
    impl: (c, name: string, open, read, write, ioctl, mmap, release) => {
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new GuestError("Error", `misc_register: "${name}" is not a device name`);
      return miscRegister(c.k, name, fops(c, open, read, write, ioctl, mmap, release), c.mod.name).ret;
    },
  }),
  fn({
    name: "misc_deregister",
    params: [p("name", "string")],
    returns: "void",
    context: "may sleep (process context)",
    doc: "Remove the misc device registered under name.",
    impl: (c, name: string) => {
      if (!miscDeregister(c.k, name)) throw new GuestError("Error", `misc_deregister: no misc device "${name}" is registered`);
    },
  }),
  fn({
    name: "copy_to_user",
    params: [p("to", "addr", "a user address"), p("from", "addr", "kernel memory"), p("n", "size")],
    returns: "uint",
    context: "may sleep (process context: it may fault user pages in)",
    doc: "Copy n bytes from kernel memory to the current process's memory. Returns the number of bytes NOT copied: 0 on success, n when the range is not user memory (access_ok) or nothing could be copied, the rest after the first page that cannot be faulted in. A driver returns -EFAULT when it is not 0.",
    impl: (c, to: bigint, from: bigint, n: number) => (checkCopySize(c.k, from, n, true) ? copyToUser(c.k, cur(c.k), to, from, n) : n),
  }),
  fn({
    name: "copy_from_user",
    params: [p("to", "addr", "kernel memory"), p("from", "addr", "a user address"), p("n", "size")],
    returns: "uint",
    context: "may sleep (process context: it may fault user pages in)",
    doc: "Copy n bytes from the current process's memory into kernel memory. Returns the bytes NOT copied; the kernel buffer's uncopied tail is zeroed.",
    impl: (c, to: bigint, from: bigint, n: number) => (checkCopySize(c.k, to, n, false) ? copyFromUser(c.k, cur(c.k), to, from, n) : n),
  }),
  fn({
    name: "clear_user",
    params: [p("to", "addr"), p("n", "size")],
    returns: "uint",
    context: "may sleep (process context)",
    doc: "Zero n bytes of the current process's memory: the bytes NOT cleared.",
    impl: (c, to: bigint, n: number) => clearUser(c.k, cur(c.k), to, n),
  }),
  fn({
    name: "simple_read_from_buffer",
    params: [
      p("to", "addr", "the user buffer"),
      p("count", "size"),
      p("ppos", "handle:loff_t"),
      p("from", "addr", "the kernel buffer"),
      p("available", "size", "its size"),
    ],
    returns: "int",
    context: "may sleep (process context)",
    doc: "A read file operation in one call: copy from from + *ppos up to available, at most count bytes, advance *ppos. The bytes copied, 0 at the end, or -EFAULT when nothing could be copied.",
    impl: (c, to: bigint, count: number, pp: number, from: bigint, available: number) => {
      const q = handles(c.k).get<Ppos>(pp, "simple_read_from_buffer");
      const pos = q.f.pos;
      if (pos >= available || !count) return 0;
      const n = Math.min(count, available - pos);
      const src = from + BigInt(pos);
      const left = checkCopySize(c.k, src, n, true, "simple_read_from_buffer") ? copyToUser(c.k, cur(c.k), to, src, n) : n;
      if (left === n) return -14;
      q.f.pos = pos + n - left;
      return n - left;
    },
  }),
  fn({
    name: "simple_write_to_buffer",
    params: [
      p("to", "addr", "the kernel buffer"),
      p("available", "size", "its size"),
      p("ppos", "handle:loff_t"),
      p("from", "addr", "the user buffer"),
      p("count", "size"),
    ],
    returns: "int",
    context: "may sleep (process context)",
    doc: "A write file operation in one call: copy from the user buffer into to + *ppos, at most available - *ppos bytes; advance *ppos. The bytes taken, 0 when full, or -EFAULT.",
    impl: (c, to: bigint, available: number, pp: number, from: bigint, count: number) => {
      const q = handles(c.k).get<Ppos>(pp, "simple_write_to_buffer");
      const pos = q.f.pos;
      if (pos >= available || !count) return 0;
      const n = Math.min(count, available - pos);
      const dst = to + BigInt(pos);
      const left = checkCopySize(c.k, dst, n, false, "simple_write_to_buffer") ? copyFromUser(c.k, cur(c.k), dst, from, n) : n;
      if (left === n) return -14;
      q.f.pos = pos + n - left;
      return n - left;
    },
  }),
  fn({
    name: "vma_start",
    memory: { none: "a user address (vma->vm_start)" },
    params: [p("vma", "handle:vm_area_struct")],
    returns: "addr",
    context: "inside an mmap file operation",
    doc: "vma->vm_start: the first user address of the mapping.",
    impl: (c, id: number) => vmaArg(c, id, "vma_start").vma.start,
  }),
  fn({
    name: "vma_end",
    memory: { none: "a user address (vma->vm_end)" },
    params: [p("vma", "handle:vm_area_struct")],
    returns: "addr",
    context: "inside an mmap file operation",
    doc: "vma->vm_end: the address after the mapping (vma_end - vma_start is its size).",
    impl: (c, id: number) => vmaArg(c, id, "vma_end").vma.end,
  }),
  fn({
    name: "vma_pgoff",
    params: [p("vma", "handle:vm_area_struct")],
    returns: "uint",
    context: "inside an mmap file operation",
    doc: "vma->vm_pgoff: mmap's offset in pages.",
    impl: (c, id: number) => vmaArg(c, id, "vma_pgoff").vma.pgoff,
  }),
  fn({
    name: "remap_pfn_range",
    params: [
      p("vma", "handle:vm_area_struct"),
      p("addr", "addr", "a user address in the vma"),
      p("pfn", "uint", "the first page frame (virt_to_phys(buf) >> PAGE_SHIFT)"),
      p("size", "size"),
    ],
    returns: "int",
    context: "may sleep (inside an mmap file operation)",
    doc: "Map size bytes of physically contiguous frames from pfn at addr (a kmalloc or __get_free_pages buffer: one call for all of it). Marks the VMA VM_IO | VM_PFNMAP. 0, or -EINVAL (unaligned address, a range outside the VMA, a private mapping not mapped whole).",
    impl: (c, id: number, addr: bigint, pfn: number, size: number) => {
      const { vma, mm } = vmaArg(c, id, "remap_pfn_range");
      return remapPfnRange(mm, vma, addr, pfn, size);
    },
  }),
  fn({
    name: "vm_insert_page",
    params: [
      p("vma", "handle:vm_area_struct"),
      p("addr", "addr", "a user address in the vma"),
      p("page", "addr", "a struct page * (virt_to_page, alloc_pages)"),
    ],
    returns: "int",
    context: "may sleep (inside an mmap file operation)",
    doc: "Map one page at addr. -EFAULT outside the VMA; -EINVAL for a free page and, on 6.1, for a slab page (kmalloc memory: use remap_pfn_range) or an anonymous one; -EBUSY if something is mapped there. The page counts in the process's RSS.",
    impl: (c, id: number, addr: bigint, page: bigint) => {
      const { vma, mm } = vmaArg(c, id, "vm_insert_page");
      return vmInsertPage(c.k, mm, vma, addr, c.k.pages.page_to_pfn(page));
    },
  }),
  fn({
    name: "remap_vmalloc_range",
    params: [
      p("vma", "handle:vm_area_struct"),
      p("addr", "addr", "the start of a vmalloc_user() buffer"),
      p("pgoff", "uint", "the page to start from, usually vma_pgoff(vma)"),
    ],
    returns: "int",
    context: "may sleep (inside an mmap file operation)",
    doc: "Map a vmalloc buffer into the whole VMA, page by page (its frames are scattered). Only a buffer made for user space (vmalloc_user: VM_USERMAP) may be mapped: anything else is -EINVAL, as is a VMA larger than the buffer from pgoff.",
    impl: (c, id: number, addr: bigint, pgoff: number) => {
      const { vma, mm } = vmaArg(c, id, "remap_vmalloc_range");
      return remapVmallocRange(c.k, mm, vma, addr, pgoff);
    },
  }),
];

/** copy_to_user of host bytes (seq_read's copy out): bytes NOT copied. */
function copyBytesToUser(k: Kernel, p: NonNullable<ReturnType<typeof cur>>, to: bigint, bytes: Uint8Array): number {
  const n = bytes.length;
  if (to < 0n || to + BigInt(n) > p.mm.L.taskSize) return n;
  const pm = k.physmem;
  return n - walkUser(k, p, to, n, true, "kernel", (pa, d, len) => pm.writeBytes(pa, bytes.subarray(d, d + len)));
}
