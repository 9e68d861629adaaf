// The 2.6 and 3.4 machines have kernel threads and user processes running when a module loads (init/boot_tasks.ts
// oldEraTasks): KernelStack is their threads x THREAD_SIZE (8 KiB, order-1 pages from the page allocator), and
// Committed_AS charges the workload's resident anonymous memory plus each thread's stack reservation.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import "../../src/kernel/fs/all.ts";
import { readProc } from "../../src/kernel/fs/proc.ts";
import { oldEraTasks } from "../../src/kernel/init/boot_tasks.ts";
import { PageOwner } from "../../src/kernel/mm/page_flags.ts";

const MiB = 2 ** 20;
const field = (mi: string, f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, "m").exec(mi)![1]);

describe("old eras: the boot's tasks hold kernel stacks and commit charge", () => {
  // The documented sets, counted here from their description (per CPU x CPUs + global + secondary idle tasks).
  const cases = [
    // 2.6.26 PC, 1 CPU: per CPU migration, ksoftirqd, watchdog, events, kblockd, aio, ata (7); global kthreadd,
    // khelper, kacpid, kacpi_notify, kseriod, 2 pdflush, kswapd0, ata_aux, scsi_eh_0/1, khubd, kjournald (13);
    // user: 14 single-threaded processes; main stack 20 pages of stack_expand + the argument page.
    { profile: "i386-2.6", cpus: 1, mems: [160, 96, 512], kthreads: 7 * 1 + 13, userThreads: 14, commitExtraKb: 14 * 21 * 4 },
    // 3.4 phone, 2 CPUs: per CPU ksoftirqd, 2 kworkers, migration, watchdog (5); global 13; 1 secondary idle task;
    // user: 13 single-threaded (init, ueventd, servicemanager, vold, netd, debuggerd, rild, zygote, drmserver,
    // installd, keystore, adbd, sh) + surfaceflinger/mediaserver (3 each) + system_server (50) + 5 apps x 10 (21 processes);
    // each process's main stack 128 KiB + 1 page, each further thread a 1 MiB Bionic stack.
    {
      profile: "arm-3.4-msm8x25",
      cpus: 2,
      mems: [1024, 512],
      kthreads: 5 * 2 + 13 + 1,
      userThreads: 13 + 6 + 50 + 50,
      commitExtraKb: 21 * (128 + 4) + (2 + 2 + 49 + 5 * 9) * 1024,
    },
  ];
  for (const c of cases) {
    for (const mem of c.mems) {
      it(`${c.profile} at ${mem} MiB: KernelStack = ${c.kthreads + c.userThreads} threads x 8 KiB, Committed_AS = AnonPages + the stacks' reservations`, () => {
        const k = boot(c.profile, { mem: mem * MiB });
        const t = oldEraTasks(k.profile.era, k.profile.nrCpus);
        expect(k.profile.nrCpus).toBe(c.cpus);
        expect(t.kthreads.reduce((a, x) => a + x.threads, 0)).toBe(c.kthreads);
        expect(t.user.reduce((a, x) => a + x.threads, 0)).toBe(c.userThreads);
        const mi = readProc(k, "meminfo");
        expect(field(mi, "KernelStack")).toBe((c.kthreads + c.userThreads) * 8);
        expect(field(mi, "Committed_AS")).toBe(field(mi, "AnonPages") + c.commitExtraKb);
      });
    }
  }

  it("the stacks are real frames: a boot's kernel-owned pages grow by two per thread over the same boot without them", () => {
    const k = boot("i386-2.6", { mem: 160 * MiB });
    const threads = k.nrTasks;
    expect(threads).toBe(34);
    // every stack is an order-1 block owned by the kernel; MemFree + the owners' pages still add up to MemTotal
    expect(k.pages.ownerPages(PageOwner.Kernel)).toBeGreaterThanOrEqual(threads * 2);
  });
});

describe("a machine smaller than the user-space model boots with less page cache, never a boot panic", () => {
  // The phone's model is a minute of Android (192 MiB of page cache, 128 MiB of anon): below that, its faults stop
  // where the free lists (the per-CPU lists drained) run out, as a real machine reclaiming its cache runs with less.
  for (const mem of [96, 112, 128, 160, 192, 256])
    it(`arm-3.4-msm8x25 at ${mem} MiB: boots, every task's stack allocated, free memory left to the kernel`, () => {
      const k = boot("arm-3.4-msm8x25", { mem: mem * MiB, config: "distro" });
      const mi = readProc(k, "meminfo");
      const threads = Object.values(oldEraTasks("3.4", k.profile.nrCpus))
        .flat()
        .reduce((a, t) => a + t.threads, 0);
      expect(field(mi, "KernelStack")).toBe(threads * 8);
      expect(field(mi, "MemFree")).toBeGreaterThan(0);
      expect(field(mi, "Cached") + field(mi, "AnonPages")).toBeLessThan(field(mi, "MemTotal"));
    });
});
