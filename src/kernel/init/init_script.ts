// The commands the real boots' /init runs before the learner's insmod (Linux 6.1 QEMU profiles), as the processes
// the kernel forks, execs and reaps: init/boot_tasks.ts run_init_script() replays each one through the page allocator
// (its PGD, page tables, anonymous pages and, without VMAP_STACK, its kernel stack, taken and freed in the kernel's
// order), so the per-CPU page lists and the buddy lists are the ones such a sequence of short-lived processes leaves.
//
// Source: the initramfs script of the real transcripts (test/fixtures/real-kernel/init; the same script drives the
// x86_64, i386 and armhf boots). Every external command is one process: ash forks, the child execs busybox (its
// applet by the symlink /bin/busybox --install made) and exits, the shell reaps it; `echo`, `mark` (a shell function
// of echo builtins), `export`, `[`, redirections and the `for` loop are the shell's own. The transcripts confirm the
// one-process-per-command count: the PIDs of the two insmods (x86_64: 108 and 125, i386 and armhf alike) differ by
// the 17 commands the script runs between them, `cat` included (a fork each, no NOFORK applet). A command
// substitution `$(cat ...)` is one process too (ash's subshell execs its last command itself).
//
// What the transcripts do not say, and is chosen here (plausible, said plainly):
// - Each child execs busybox (fork + exec) rather than running the applet in the forked shell (busybox's NOEXEC
//   applets with FEATURE_SH_STANDALONE): Debian's busybox-static configuration is not in the reference.
// - The pipeline `dmesg | grep` forks both children before either runs (ash forks the whole pipeline, then waits);
//   each then runs to its exit in turn (one CPU).
// - Nothing else runs in user space meanwhile (no udev, no getty: the initramfs has only busybox and the module).

/** One process of the script: its command (argv[0], for the record) and whether it forks together with the next. */
export interface InitCommand {
  comm: string;
  /** Forked in the same pipeline as the next command (both children exist before either runs). */
  pipeNext?: true;
}

const c = (comm: string, pipeNext?: true): InitCommand => (pipeNext ? { comm, pipeNext } : { comm });

/**
 * The processes /init forks before `insmod /memdemo.ko`, in order (the script with the default command line:
 * mdnowait unset, so the crng wait runs). insmod itself is the next fork: it is alive when the module loads.
 */
export const INIT_SCRIPT_BEFORE_INSMOD: readonly InitCommand[] = [
  c("busybox"), // /bin/busybox --install -s /bin
  c("mount"), // mount -t proc proc /proc
  c("mount"), // mount -t sysfs sysfs /sys
  c("mount"), // mount -t devtmpfs devtmpfs /dev
  c("dd"), // dd if=/dev/random of=/dev/null bs=16 count=1
  c("sleep"), // sleep 3
  c("dmesg", true), // dmesg | grep -iE 'random|crng'
  c("grep"),
  c("uname"), // uname -a
  c("cat"), // /proc/version
  c("cat"), // /proc/cmdline
  c("dmesg"), // the boot's log
  c("cat"), // /proc/meminfo
  c("cat"), // /proc/buddyinfo
  c("head"), // head -n 40 /proc/pagetypeinfo
  c("head"), // head -n 60 /proc/zoneinfo
  c("grep"), // grep -E ... /proc/zoneinfo
  c("cat"), // /proc/slabinfo
  c("cat"), // $(cat /proc/sys/kernel/kptr_restrict)
  c("cat"), // /proc/vmallocinfo
  c("cat"), // /proc/vmallocinfo > /tmp/vm-before
  c("cat"), // /tmp/vm-before
  c("cat"), // /proc/iomem
  c("cat"), // $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>&1)
  c("cat"), // $(cat /proc/sys/vm/overcommit_memory 2>&1)
  c("cat"), // $(cat /proc/sys/vm/min_free_kbytes 2>&1)
  c("cat"), // $(cat /proc/sys/kernel/kptr_restrict 2>&1)
  c("cat"), // $(cat /proc/sys/kernel/randomize_va_space 2>&1)
  c("dmesg"), // dmesg -c > /dev/null
];
