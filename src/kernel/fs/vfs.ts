// Models the part of the VFS a simple process reaches (fs/namei.c path lookup, fs/open.c, struct file and
// file_operations of include/linux/fs.h) in Linux 6.1 / 3.4 / 2.6.26: the /proc files of fs/proc.ts, a process's
// /proc/PID/maps and status (fs/proc_pid.ts; /proc/self is the caller), and the nodes a module registers
// (proc_create under /proc, misc_register under /dev). A file's read/write/ioctl/mmap/release are the driver's.
//
// Simplifications (stated): no directories, permissions or mounts beyond these names; a path is looked up as a
// whole string; /dev nodes carry the device's major:minor for /proc/PID/maps, and procfs nodes device 00:05 (the
// proc superblock's anonymous device is a model) with inode 0.

import { SideTable } from "../snapshot.ts";
import type { Kernel } from "../kernel.ts";
import type { Vma } from "../mm/mmap.ts";
import { readProc, setModuleProcReader, UnknownProcError } from "./proc.ts";
import { renderMaps, renderStatus, type ProcTask } from "./proc_pid.ts";

/** What a file's driver does (file_operations). Each returns a count or -errno. */
export interface FileOps {
  open?(f: OpenFile): number;
  read?(f: OpenFile, buf: bigint, count: number): number;
  write?(f: OpenFile, buf: bigint, count: number): number;
  ioctl?(f: OpenFile, cmd: number, arg: bigint): number;
  mmap?(f: OpenFile, vma: Vma): number;
  release?(f: OpenFile): number;
}

export interface FileNode {
  path: string;
  ops: FileOps;
  /** The filesystem's device (s_dev) and the inode number, as /proc/PID/maps prints them. */
  dev?: [number, number];
  ino?: number;
  /** A device node's own major:minor (i_rdev). */
  rdev?: [number, number];
  /** Who registered it (a module's proc entry or device): for the views. */
  owner?: string;
  /** The whole text as `cat` reads it (a /proc entry), for the run's /proc snapshots. */
  cat?: () => string;
}

/** struct file: one open of a node. */
export interface OpenFile {
  id: number;
  path: string;
  flags: number;
  /** f_pos */
  pos: number;
  node: FileNode;
  /** private_data (a seq_file, a driver's state). */
  priv?: unknown;
}

const registries = new SideTable<Kernel, Map<string, FileNode>>(); // a kernel snapshot copies it (snapshot.ts)

function registry(k: Kernel): Map<string, FileNode> {
  let r = registries.get(k);
  if (!r) registries.set(k, (r = new Map()));
  return r;
}

/** Register a node; false when the path exists (the caller returns -EEXIST / -EBUSY as its kernel function does). */
export function registerNode(k: Kernel, node: FileNode): boolean {
  const r = registry(k);
  if (r.has(node.path)) return false;
  r.set(node.path, node);
  return true;
}

export function unregisterNode(k: Kernel, path: string): boolean {
  return registry(k).delete(path);
}

export function registeredNodes(k: Kernel): FileNode[] {
  return [...registry(k).values()];
}

/** The text of a file the kernel renders whole (procfs), read with seq_read()'s semantics by the caller. */
export type TextSource = () => string;

/** A node whose read serves `text()` rendered at open (single_open + seq_read). */
export function textNode(path: string, text: TextSource, readText: (f: OpenFile, t: string, buf: bigint, count: number) => number): FileNode {
  return {
    path,
    dev: [0, 5],
    ino: 0,
    ops: {
      open: (f) => {
        f.priv = text();
        return 0;
      },
      read: (f, buf, count) => readText(f, f.priv as string, buf, count),
    },
  };
}

/** Path lookup for a process: its own /proc entries, the kernel's /proc files, then registered nodes. */
export function lookupFile(
  k: Kernel,
  path: string,
  self: ProcTask & { readTextFn: (f: OpenFile, t: string, buf: bigint, count: number) => number },
): FileNode | undefined {
  const own = registry(k).get(path);
  if (own) return own;
  const m = /^\/proc\/(self|\d+)\/(maps|status)$/.exec(path);
  if (m) {
    if (m[1] !== "self" && Number(m[1]) !== self.pid) return undefined; // one process: no other PID exists
    return textNode(path, () => (m[2] === "maps" ? renderMaps(k, self) : renderStatus(k, self)), self.readTextFn);
  }
  const p = /^\/proc\/([a-z_]+)$/.exec(path);
  if (p) {
    try {
      const probe = readProc(k, p[1]!);
      void probe;
    } catch (e) {
      if (e instanceof UnknownProcError) return undefined;
      throw e;
    }
    return textNode(path, () => readProc(k, p[1]!), self.readTextFn);
  }
  return undefined;
}

// `kmodlab run --proc NAME` and RunOptions.proc read a module's /proc entry as cat would.
setModuleProcReader((k, name) => registry(k).get(`/proc/${name}`)?.cat?.());
