// slub_debug reports, byte for byte (6.1 texts of mm/slub.c, kernel-facts §4.7). Hashed %p values depend on where
// the boot put things, so "0x" + 16 hex digits and the hex-dump row addresses are normalised to <ptr>; every other
// byte (banner, BUG line with the taint string, offsets, hex dumps, FIX lines, tracking, call traces) is pinned.
import { describe, expect, it } from "vitest";
import { boot } from "../../../src/kernel/kernel.ts";
import { provokeSlubBugs } from "./slub_bugs.ts";

const norm = (s: string) => s.replace(/0x[0-9a-f]{16}\b/g, "0x<ptr>").replace(/^(Redzone  |Object   |Padding  |Bytes b4 )[0-9a-f]{16}:/gm, "$1<ptr>:");
const doubleFree = `=============================================================================
BUG kmalloc-32 (Not tainted): Object already free
-----------------------------------------------------------------------------

Allocated in leaky_init+0x160/0x34c [cell] age=0 cpu=0 pid=108
 __kmem_cache_alloc_node+0xdd/0x123
 __kmalloc+0xbf/0x150
 leaky_init+0x160/0x34c [cell]
Freed in leaky_init+0x160/0x34c [cell] age=0 cpu=0 pid=108
 kfree+0xd2/0xe0
 leaky_init+0x160/0x34c [cell]
Slab 0x<ptr> objects=25 used=5 fp=0x<ptr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
Object 0x<ptr> @offset=832 fp=0x<ptr>

Redzone  <ptr>: bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb  ................
Redzone  <ptr>: bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb  ................
Object   <ptr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
Object   <ptr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
Redzone  <ptr>: bb bb bb bb bb bb bb bb                          ........
Padding  <ptr>: 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a  ZZZZZZZZZZZZZZZZ
CPU: 0 PID: 108 Comm: insmod Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 free_debug_processing+0x55/0x7f
 __slab_free+0x2a0/0x306
 kfree+0xd2/0xe0
 leaky_init+0x160/0x34c [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x47fbe9
Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48
RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: 0000000000000139
RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9
RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003
RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90
R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000
 </TASK>
Disabling lock debugging due to kernel taint
FIX kmalloc-32: Object at 0x<ptr> not freed`;
const rightRedzone = `=============================================================================
BUG kmalloc-32 (Tainted: G    B             ): Right Redzone overwritten
-----------------------------------------------------------------------------

0x<ptr>-0x<ptr> @offset=864. First byte 0x21 instead of 0xcc
Allocated in leaky_init+0x160/0x34c [cell] age=0 cpu=0 pid=108
 __kmem_cache_alloc_node+0xdd/0x123
 __kmalloc+0xbf/0x150
 leaky_init+0x160/0x34c [cell]
Freed in leaky_init+0x160/0x34c [cell] age=0 cpu=0 pid=108
 kfree+0xd2/0xe0
 leaky_init+0x160/0x34c [cell]
Slab 0x<ptr> objects=25 used=6 fp=0x<ptr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
Object 0x<ptr> @offset=832 fp=0x<ptr>

Redzone  <ptr>: cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc  ................
Redzone  <ptr>: cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc  ................
Object   <ptr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
Object   <ptr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
Redzone  <ptr>: 21 cc cc cc cc cc cc cc                          !.......
Padding  <ptr>: 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a  ZZZZZZZZZZZZZZZZ
CPU: 0 PID: 108 Comm: insmod Tainted: G    B              6.1.0-56-amd64 #1  Debian 6.1.192-2
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 free_debug_processing+0x55/0x7f
 __slab_free+0x2a0/0x306
 kfree+0xd2/0xe0
 leaky_init+0x160/0x34c [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x47fbe9
Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48
RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: 0000000000000139
RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9
RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003
RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90
R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000
 </TASK>
FIX kmalloc-32: Restoring Right Redzone 0x<ptr>-0x<ptr>=0xcc
FIX kmalloc-32: Object at 0x<ptr> not freed`;
const poison = `=============================================================================
BUG kmalloc-32 (Tainted: G    B             ): Poison overwritten
-----------------------------------------------------------------------------

0x<ptr>-0x<ptr> @offset=997. First byte 0x0 instead of 0x6b
Allocated in leaky_init+0x160/0x34c [cell] age=0 cpu=0 pid=108
 __kmem_cache_alloc_node+0xdd/0x123
 __kmalloc+0xbf/0x150
 leaky_init+0x160/0x34c [cell]
Freed in leaky_init+0x160/0x34c [cell] age=0 cpu=0 pid=108
 kfree+0xd2/0xe0
 leaky_init+0x160/0x34c [cell]
Slab 0x<ptr> objects=25 used=6 fp=0x<ptr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
Object 0x<ptr> @offset=992 fp=0x<ptr>

Redzone  <ptr>: bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb  ................
Redzone  <ptr>: bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb  ................
Object   <ptr>: 6b 6b 6b 6b 6b 00 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkk.kkkkkkkkkk
Object   <ptr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
Redzone  <ptr>: bb bb bb bb bb bb bb bb                          ........
Padding  <ptr>: 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a  ZZZZZZZZZZZZZZZZ
CPU: 0 PID: 108 Comm: insmod Tainted: G    B              6.1.0-56-amd64 #1  Debian 6.1.192-2
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 alloc_debug_processing+0xbe/0xc4
 ___slab_alloc+0x1c3/0x292
 __slab_alloc.constprop.0+0x1db/0x34f
 __kmem_cache_alloc_node+0xdd/0x123
 __kmalloc+0xbf/0x150
 leaky_init+0x160/0x34c [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x47fbe9
Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48
RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: 0000000000000139
RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9
RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003
RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90
R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000
 </TASK>
FIX kmalloc-32: Restoring Poison 0x<ptr>-0x<ptr>=0x6b
FIX kmalloc-32: Marking all objects used`;
const invalidPointer = `=============================================================================
BUG kmalloc-32 (Tainted: G    B             ): Invalid object pointer 0x<ptr>
-----------------------------------------------------------------------------

Slab 0x<ptr> objects=25 used=2 fp=0x<ptr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
CPU: 0 PID: 108 Comm: insmod Tainted: G    B              6.1.0-56-amd64 #1  Debian 6.1.192-2
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 free_debug_processing+0x55/0x7f
 __slab_free+0x2a0/0x306
 kfree+0xd2/0xe0
 leaky_init+0x160/0x34c [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x47fbe9
Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48
RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: 0000000000000139
RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9
RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003
RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90
R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000
 </TASK>
FIX kmalloc-32: Object at 0x<ptr> not freed`;
const objectsRemaining = `=============================================================================
BUG kmodlab_item (Tainted: G    B             ): Objects remaining in kmodlab_item on __kmem_cache_shutdown()
-----------------------------------------------------------------------------

Slab 0x<ptr> objects=24 used=1 fp=0x<ptr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
CPU: 0 PID: 108 Comm: insmod Tainted: G    B              6.1.0-56-amd64 #1  Debian 6.1.192-2
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 __kmem_cache_shutdown+0x2c7/0x3c3
 kmem_cache_destroy+0x1ad/0x3d7
 leaky_init+0x160/0x34c [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x47fbe9
Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48
RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: 0000000000000139
RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9
RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003
RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90
R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000
 </TASK>
Object 0x<ptr> @offset=8
Allocated in leaky_init+0x160/0x34c [cell] age=0 cpu=0 pid=108
 kmem_cache_alloc+0xa9/0x12c
 leaky_init+0x160/0x34c [cell]`;
const destroyWarn = `------------[ cut here ]------------
kmem_cache_destroy kmodlab_item: Slab cache still has objects when called from leaky_init+0x160/0x34c [cell]
WARNING: CPU: 0 PID: 108 at mm/slab_common.c:497 kmem_cache_destroy+0x1ad/0x3d7
Modules linked in:
CPU: 0 PID: 108 Comm: insmod Tainted: G    B              6.1.0-56-amd64 #1  Debian 6.1.192-2
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:kmem_cache_destroy+0x1ad/0x3d7
Code: ec 4b a1 5b 7b 49 e4 8a e6 54 12 f6 a7 d7 3a f7 be ae 8e 5f 51 24 d2 70 77 2f 13 0f 2c 9e e7 2d 9b ec 29 28 b1 62 f5 7d 51 63 <0f> 0b dc d6 32 ed f2 1a b7 5c f2 93 05 33 45 e8 42 20 73 6d 83 56
RSP: 0018:ffffc900005b3bb0 EFLAGS: 00000246
RAX: 0000000000000000 RBX: 000000000000026b RCX: 0000000000000000
RDX: 0000000000000000 RSI: 000000000000069a RDI: 000000000000000b
RBP: 000000000000013f R08: 0000000000000000 R09: ffffc900005b3b08
R10: 00000000000006f4 R11: ffffffff82ad4448 R12: 0000000000000000
R13: ffffffff8109f676 R14: 0000000080000000 R15: 0000000000000000
FS:  000000001b2ba3c0(0000) GS:ffff88801f400000(0000) knlGS:0000000000000000
CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
CR2: 0000000000500ebe CR3: 00000000060fc000 CR4: 00000000000006f0
Call Trace:
 <TASK>
 ? leaky_init+0x160/0x34c [cell]
 leaky_init+0x160/0x34c [cell]
 do_one_initcall+0x59/0x220
 do_init_module+0x4a/0x1f0
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x47fbe9
Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48
RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: 0000000000000139
RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9
RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003
RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90
R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000
 </TASK>
---[ end trace 0000000000000000 ]---`;

function run() {
  // The pinned texts have the addresses of a kernel without user space; KASAN off, or it reports the double and
  // invalid frees before slub_debug sees them (as the real 6.1 kernel does with both on). The kmalloc-32 slab the
  // module uses first also holds 5 objects the rest of boot left there (mm/slab_boot.ts): used=5.., @offset=832..
  const k = boot("x86_64-6.1", { seed: 7, userspace: false, cmdline: "console=ttyS0 loglevel=8 nokaslr kasan=off" });
  k.current = { pid: 108, comm: "insmod" };
  k.captureModuleStack = () => [{ fn: "leaky_init", module: "cell", line: 12 }];
  return k;
}
const G = 0xcc0; // GFP_KERNEL (6.1)

describe("slub_debug reports on the x86_64-6.1 debug kernel (slub_debug=FZPU)", () => {
  const k = run();
  provokeSlubBugs(k, G); // 1-4
  // 5. kmem_cache_destroy with an object left
  const cc = k.slab.kmem_cache_create("kmodlab_item", 72, 0, 0)!;
  k.slab.kmem_cache_alloc(cc, G);
  k.slab.kmem_cache_destroy(cc);

  it("reports each bug once, with the right kind", () => {
    expect(k.reports.map((r) => r.kind)).toEqual(["double-free", "slub", "slub", "invalid-free", "leak", "leak"]);
    expect(k.taint.has("B")).toBe(true);
  });
  it("Object already free (double free)", () => expect(norm(k.reports[0].text)).toBe(doubleFree));
  it("Right Redzone overwritten, found at kfree; the object is not freed", () => expect(norm(k.reports[1].text)).toBe(rightRedzone));
  it("Poison overwritten, found at allocation; the slab is given up", () => expect(norm(k.reports[2].text)).toBe(poison));
  it("Invalid object pointer", () => expect(norm(k.reports[3].text)).toBe(invalidPointer));
  it("Objects remaining in <cache> on __kmem_cache_shutdown(), then the WARN; the cache stays", () => {
    expect(norm(k.reports[4].text)).toBe(objectsRemaining);
    expect(norm(k.reports[5].text)).toBe(destroyWarn);
    expect(k.proc("slabinfo").split("\n")[2].startsWith("kmodlab_item ")).toBe(true);
  });
  it("leaves the allocator consistent", () => expect(k.slab.checkInvariants()).toEqual([]));
});

describe("without slub_debug", () => {
  it("a double free corrupts the freelist silently: the object is handed out twice", () => {
    // (With another free in between: freed twice in a row, the hardened freelist's BUG_ON catches it, below.)
    const k = boot("x86_64-6.1", { config: "distro" });
    k.current = { pid: 108, comm: "insmod" };
    // two objects of one slab (the boot may leave its last kmalloc-64 slab with one free object: take it first)
    let p = k.slab.kmalloc(64, G);
    let q = k.slab.kmalloc(64, G);
    if (k.slab.slabOf(p) !== k.slab.slabOf(q)) [p, q] = [q, k.slab.kmalloc(64, G)];
    expect(k.slab.slabOf(p)).toBe(k.slab.slabOf(q));
    k.slab.kfree(p);
    k.slab.kfree(q);
    k.slab.kfree(p);
    expect(k.reports).toEqual([]);
    const x = k.slab.kmalloc(64, G);
    expect(k.slab.kmalloc(64, G)).toBe(q);
    const y = k.slab.kmalloc(64, G);
    expect(x).toBe(p);
    expect(y).toBe(p);
    expect(k.slab.liveObjects({ boot: false }).find((o) => o.addr === p)!.duplicate).toBe(true);
  });
  it("CONFIG_SLAB_FREELIST_HARDENED: kfree twice in a row is BUG_ON(object == fp) in set_freepointer", () => {
    const k = boot("x86_64-6.1", { config: "distro" });
    k.current = { pid: 108, comm: "insmod" };
    const p = k.slab.kmalloc(64, G);
    k.slab.kfree(p);
    k.slab.kfree(p);
    expect(k.reports.map((r) => [r.kind, r.title])).toEqual([["double-free", "kernel BUG at mm/slub.c:379!"]]);
    expect(k.slab.kmalloc(64, G)).toBe(p);
    expect(k.slab.kmalloc(64, G)).not.toBe(p);
  });
  it("slub_debug=FZ,kmalloc-64 debugs only kmalloc-64", () => {
    const k = boot("x86_64-6.1", { config: "distro", cmdline: "console=ttyS0 slub_debug=FZ,kmalloc-64" });
    expect(k.slab.caches().find((c) => c.name === "kmalloc-64")!.size).toBe(192); // 64 + right red zone 8 + pad 8, left red zone ALIGN(8, 64)
    expect(k.slab.caches().find((c) => c.name === "kmalloc-128")!.size).toBe(128);
  });
});
