// Boot profiles (architecture x kernel era x board): data only. The 6.1 profiles are the Debian 12 kernels
// of test/fixtures/real-kernel (banner, command line, HZ, MAX_ORDER, KMALLOC_MIN_SIZE read from those
// logs); the 2.6.26 and 3.4.0 profiles are era-typical machines whose version strings are invented
// (plausible for the era, marked below). Per-arch formulas live in arch/*.ts; nothing here is computed.
//
// config: every profile boots by default as its era's developer debug kernel ("debug": might_sleep,
// KASAN where the era has it, kmemleak, lockdep, DMA-API debug, slub_debug); `config: "distro"` boots
// the distribution's build. The banner and /proc/version are the same text in both (the kernel build
// string); the boot log shows the choice where a real debug kernel prints differently (see arch/*.ts).

import type { Profile } from "./types.ts";

const MiB = 1024 * 1024;

export const PROFILES: Profile[] = [
  {
    name: "i386-2.6",
    arch: "i386",
    era: "2.6",
    description:
      "The textbook 2.6 PC: x86_32 2.6.26, 3G/1G split, HIGHMEM, SLAB, 896 MB lowmem, 160 MB RAM (debug kernel by default; config distro for the plain build)",
    release: "2.6.26",
    // Invented, era-correct: a vanilla 2.6.26 (released 13 July 2008) built with Debian lenny's gcc 4.3.
    versionString: "Linux version 2.6.26 (kmodlab@buildhost) (gcc version 4.3.1 (Debian 4.3.1-2) ) #1 SMP PREEMPT Mon Jul 14 10:12:31 UTC 2008",
    board: "Standard PC (Bochs BIOS, i440FX + PIIX)",
    defaultMem: 160 * MiB,
    defaultCmdline: "root=/dev/hda1 ro console=ttyS0",
    defaultConfig: "debug",
    hz: 250,
    slab: "SLAB",
    maxOrder: 11,
    kmallocMinSize: 8,
    nrCpus: 1,
    printkLevelStyle: "angle",
    hashedPointers: false,
  },
  {
    name: "arm-3.4-msm8x25",
    arch: "arm",
    era: "3.4",
    description:
      "An Android 4.1 phone: Qualcomm MSM8x25 (dual Cortex-A5), ARM 3.4.0, 1 GB RAM with modem carve-outs, vmalloc=200M (debug kernel by default; config distro for the vendor build)",
    release: "3.4.0-perf",
    // Invented, era-correct: a Qualcomm/Android 3.4 build (Android 4.1 "Jelly Bean" toolchain, gcc 4.6).
    versionString:
      "Linux version 3.4.0-perf (android-build@abfarm-01) (gcc version 4.6.x-google 20120106 (prerelease) (GCC) ) #1 SMP PREEMPT Thu Nov 8 18:41:06 PST 2012",
    board: "QCT MSM8625 SURF",
    defaultMem: 1024 * MiB,
    defaultCmdline: "console=ttyMSM0,115200n8 androidboot.hardware=qcom user_debug=31 vmalloc=200M androidboot.emmc=true",
    defaultConfig: "debug",
    hz: 100, // msm7x27a/8x25 defconfigs: CONFIG_HZ=100
    slab: "SLUB",
    maxOrder: 11,
    // ARCH_DMA_MINALIGN = L1_CACHE_BYTES = 32 (Cortex-A5, ARM_L1_CACHE_SHIFT 5) → KMALLOC_MIN_SIZE 32 in 3.4.
    kmallocMinSize: 32,
    nrCpus: 2,
    printkLevelStyle: "angle", // "\001N" levels arrived in 3.6
    hashedPointers: false,
  },
  {
    name: "x86_64-6.1",
    arch: "x86_64",
    era: "6.1",
    description:
      "Debian 12's 6.1 amd64 kernel on QEMU pc (i440FX), 512 MiB, 4-level paging (debug kernel by default; config distro = the Debian build of the reference transcript)",
    release: "6.1.0-56-amd64",
    versionString:
      "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)",
    board: "QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
    defaultMem: 512 * MiB,
    defaultCmdline: "console=ttyS0 loglevel=8 nokaslr",
    defaultConfig: "debug",
    hz: 250, // "5192.21 BogoMIPS (lpj=10384436)": lpj * HZ / 500000
    slab: "SLUB",
    maxOrder: 11,
    kmallocMinSize: 8,
    nrCpus: 1,
    printkLevelStyle: "soh",
    hashedPointers: true,
  },
  {
    name: "x86_64-6.1-la57",
    arch: "x86_64",
    era: "6.1",
    description:
      "The same Debian 12 amd64 kernel on QEMU -cpu max, whose CPU has LA57: 5-level paging, 57-bit virtual addresses, the direct map at 0xff11000000000000 (no5lvl on the command line goes back to 4 levels; debug kernel by default)",
    release: "6.1.0-56-amd64",
    versionString:
      "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)",
    board: "QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
    defaultMem: 512 * MiB,
    defaultCmdline: "console=ttyS0 loglevel=8 nokaslr",
    defaultConfig: "debug",
    hz: 250,
    slab: "SLUB",
    maxOrder: 11,
    kmallocMinSize: 8,
    nrCpus: 1,
    printkLevelStyle: "soh",
    hashedPointers: true,
    cpuLa57: true,
  },
  {
    name: "i386-6.1",
    arch: "i386",
    era: "6.1",
    description:
      "Debian 12's 6.1 686 (non-PAE) kernel on QEMU pc, 1 GiB: 875 MB lowmem + highmem (debug kernel by default; config distro = the Debian build of the reference transcript)",
    release: "6.1.0-50-686",
    versionString:
      "Linux version 6.1.0-50-686 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)",
    board: "QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
    defaultMem: 1024 * MiB,
    defaultCmdline: "console=ttyS0 loglevel=8 nokaslr",
    defaultConfig: "debug",
    hz: 250,
    slab: "SLUB",
    maxOrder: 11,
    kmallocMinSize: 8,
    nrCpus: 1,
    printkLevelStyle: "soh",
    hashedPointers: true,
  },
  {
    name: "i386-6.1-pae",
    arch: "i386",
    era: "6.1",
    description:
      "Debian 12's 6.1 686-pae kernel on QEMU pc, 1 GiB: PAE (3-level paging, 64-bit PTEs, HIGHMEM64G up to 64 GiB), 879 MB lowmem + highmem (debug kernel by default; config distro for the Debian build)",
    release: "6.1.0-50-686-pae",
    // The same Debian 6.1.176-1 build as the 686 transcript (linux-image-6.1.0-50-686-pae, config-excerpt.txt); no
    // transcript of this flavour is in the references.
    versionString:
      "Linux version 6.1.0-50-686-pae (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)",
    board: "QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
    defaultMem: 1024 * MiB,
    defaultCmdline: "console=ttyS0 loglevel=8 nokaslr",
    defaultConfig: "debug",
    hz: 250,
    slab: "SLUB",
    maxOrder: 11,
    kmallocMinSize: 8,
    nrCpus: 1,
    printkLevelStyle: "soh",
    hashedPointers: true,
    pae: true,
  },
  {
    name: "arm-6.1-virt",
    arch: "arm",
    era: "6.1",
    description:
      "Debian 12's 6.1 armmp kernel on QEMU virt (Cortex-A15), 1 GiB: 768 MiB lowmem, 240 MiB vmalloc, highmem (debug kernel by default; config distro = the Debian build of the reference transcript)",
    release: "6.1.0-50-armmp",
    versionString:
      "Linux version 6.1.0-50-armmp (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP Debian 6.1.176-1 (2026-07-02)",
    board: "linux,dummy-virt",
    defaultMem: 1024 * MiB,
    defaultCmdline: "console=ttyAMA0 loglevel=8 ", // the trailing space is in the real /proc/cmdline
    defaultConfig: "debug",
    hz: 250, // "125.00 BogoMIPS (lpj=250000)" with a 62.5 MHz arch timer: lpj = rate / HZ
    slab: "SLUB",
    maxOrder: 12,
    kmallocMinSize: 64,
    nrCpus: 1,
    printkLevelStyle: "soh",
    hashedPointers: true,
  },
  {
    name: "arm64-6.1",
    arch: "arm64",
    era: "6.1",
    description:
      "Debian 12's 6.1 arm64 kernel on QEMU virt (Cortex-A57), 48-bit VA, 4 KiB pages, 1 GiB (debug kernel by default; config distro for the Debian build)",
    release: "6.1.0-50-arm64",
    // Constructed from the same Debian 6.1.176-1 build as the i386 and armmp transcripts (no arm64 log was
    // captured); Debian's arm64 6.1 banner has no PREEMPT_DYNAMIC.
    versionString:
      "Linux version 6.1.0-50-arm64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP Debian 6.1.176-1 (2026-07-02)",
    board: "linux,dummy-virt",
    defaultMem: 1024 * MiB,
    defaultCmdline: "console=ttyAMA0 loglevel=8",
    defaultConfig: "debug",
    hz: 250,
    slab: "SLUB",
    maxOrder: 11,
    // 6.1 arm64: ARCH_DMA_MINALIGN 128 → KMALLOC_MIN_SIZE 128 (kmalloc-8..64 appeared only in 6.5).
    kmallocMinSize: 128,
    nrCpus: 1,
    printkLevelStyle: "soh",
    hashedPointers: true,
  },
];

export class UnknownProfileError extends Error {
  constructor(name: string) {
    super(`unknown profile "${name}" (known profiles: ${profileNames().join(", ")})`);
    this.name = "UnknownProfileError";
  }
}

export function profileNames(): string[] {
  return PROFILES.map((p) => p.name);
}

export function getProfile(name: string): Profile {
  const p = PROFILES.find((x) => x.name === name);
  if (!p) throw new UnknownProfileError(name);
  return p;
}
