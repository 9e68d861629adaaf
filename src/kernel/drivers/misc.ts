// Models drivers/char/misc.c misc_register()/misc_deregister() of Linux 6.1 / 3.4 / 2.6.26: a character device on
// major 10 with a dynamic minor (MISC_DYNAMIC_MINOR), its node /dev/NAME (devtmpfs/udev makes it in a real system),
// and the file_operations every open of it uses.
//
// Dynamic minors are taken from the top of the dynamic range down (6.1: DYNAMIC_MINORS 128, so 127 first; 2.6.26
// and 3.4: 64, so 63 first). Simplification (stated): the boot registers no misc devices of its own here, so a
// module's first device gets the first dynamic minor; a real system has some taken already. A name already
// registered is -EBUSY (6.1 checks the name; the old eras the minor). /proc/PID/maps shows, for an mmap of the
// node, the device of the filesystem holding it (devtmpfs: 00:05 here) and the node's inode number (a model:
// 1000 + the minor), not the device's own 10:minor.

import { SideTable } from "../snapshot.ts";
import type { Kernel } from "../kernel.ts";
import { registerNode, unregisterNode, type FileOps } from "../fs/vfs.ts";

const MISC_MAJOR = 10;
const used = new SideTable<Kernel, Map<string, number>>(); // a kernel snapshot copies it (snapshot.ts)

function table(k: Kernel): Map<string, number> {
  let t = used.get(k);
  if (!t) used.set(k, (t = new Map()));
  return t;
}

/** misc_register(): 0 and the minor, or -EBUSY. */
export function miscRegister(k: Kernel, name: string, ops: FileOps, owner = "cell"): { ret: number; minor: number } {
  const t = table(k);
  if (t.has(name)) return { ret: -16, minor: -1 };
  const dynamic = k.profile.era === "6.1" ? 128 : 64;
  const taken = new Set(t.values());
  let minor = -1;
  for (let i = 0; i < dynamic; i++) {
    if (!taken.has(dynamic - i - 1)) {
      minor = dynamic - i - 1;
      break;
    }
  }
  if (minor < 0) return { ret: -16, minor: -1 };
  if (!registerNode(k, { path: `/dev/${name}`, ops, dev: [0, 5], ino: 1000 + minor, rdev: [MISC_MAJOR, minor], owner })) return { ret: -16, minor: -1 };
  t.set(name, minor);
  return { ret: 0, minor };
}

export function miscDeregister(k: Kernel, name: string): boolean {
  const t = table(k);
  if (!t.delete(name)) return false;
  unregisterNode(k, `/dev/${name}`);
  return true;
}
