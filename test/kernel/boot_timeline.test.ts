// The boot log's timestamps (init/boot_timeline.ts): at the reference boots' sizes every simulated boot line the real
// log has carries the real line's time; the tables are the real logs' own lines (re-derived here from the logs); at
// other sizes and on the debug config the stamps never go back and end at "Run /init"'s time; a boot without user space
// (the unit tests' fixture) keeps its clock near 0.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import { bootTimeline, lineShape } from "../../src/kernel/init/boot_timeline.ts";

const real = (name: string) => readFileSync(new URL(`../fixtures/real-kernel/${name}`, import.meta.url), "utf8");
const STAMP = /\[\s*(\d+)\.(\d{6})\] (.*?)\r?$/;
/** The first boot of a real log, up to "Run /init": [µs, text]. */
function realBoot(name: string): [number, string][] {
  const out: [number, string][] = [];
  for (const l of real(name).split("\n")) {
    const m = STAMP.exec(l);
    if (!m) continue;
    out.push([Number(m[1]) * 1e6 + Number(m[2]), m[3]]);
    if (m[3].startsWith("Run /init as init process")) break;
  }
  return out;
}
function simBoot(profile: string, opts: Parameters<typeof boot>[1]): [number, string][] {
  const k = boot(profile, opts);
  return k.log.dmesg().map((l) => {
    const m = STAMP.exec(l)!;
    return [Number(m[1]) * 1e6 + Number(m[2]), m[3]];
  });
}

const MiB = 2 ** 20;
const REFS = [
  { profile: "x86_64-6.1", log: "x86_64-512M-nokaslr.log", mem: 512 },
  { profile: "i386-6.1", log: "i386-1G.log", mem: 1024 },
  { profile: "arm-6.1-virt", log: "armhf-virt-1G.log", mem: 1024 },
];

describe("boot timeline", () => {
  for (const { profile, log, mem } of REFS) {
    it(`${profile} ${mem}M distro: each line the real boot prints has the real line's timestamp`, () => {
      const r = realBoot(log);
      const sim = simBoot(profile, { config: "distro", mem: mem * MiB });
      let j = 0;
      let compared = 0;
      for (const [t, text] of sim) {
        const i = r.findIndex(([, x], n) => n >= j && x === text);
        if (i < 0) continue; // the version line (another Debian build), deferred init's "in Nms"
        // ARM's sched_clock starts at time_init(), after ftrace_init: the real lines before it read 0.000000, where
        // the simulator has already charged the boot's first allocations a microsecond
        if (r[i][0] === 0 && t > 0) expect(t, text).toBeLessThanOrEqual(5);
        else expect([t, text]).toEqual([r[i][0], text]);
        j = i + 1;
        compared++;
      }
      expect(compared).toBeGreaterThan(sim.length - 3);
      expect(sim.at(-1)).toEqual(r.at(-1)); // "Run /init as init process" at its real time
    });

    it(`${profile}: the table is the real log's lines, in the log's order`, () => {
      const r = realBoot(log).map(([t, x]) => `${t} ${lineShape(x)}`);
      let j = 0;
      for (const [us, shape] of bootTimeline(profile)!) {
        const i = r.indexOf(`${us} ${shape}`, j);
        expect(i, `${us} ${shape}`).toBeGreaterThanOrEqual(j);
        j = i + 1;
      }
    });
  }

  it("other sizes, both configs, every 6.1 profile: the stamps never go back, and the last boot line is Run /init", () => {
    for (const profile of ["x86_64-6.1", "x86_64-6.1-la57", "i386-6.1", "i386-6.1-pae", "arm-6.1-virt", "arm64-6.1"]) {
      for (const mem of [256, 2048]) {
        for (const config of ["distro", "debug"] as const) {
          const sim = simBoot(profile, { config, mem: mem * MiB });
          for (let i = 1; i < sim.length; i++) expect(sim[i][0], `${profile} ${mem} ${config}: ${sim[i][1]}`).toBeGreaterThanOrEqual(sim[i - 1][0]);
          expect(sim.at(-1)![1]).toBe("Run /init as init process");
          // the boot is spread over its time, not stamped in its first milliseconds
          const ftrace = sim.find(([, x]) => x.startsWith("ftrace: allocated"));
          if (ftrace && !profile.startsWith("arm")) expect(ftrace[0], profile).toBeGreaterThan(50_000);
          const initmem = sim.find(([, x]) => x.startsWith("Freeing unused kernel"))!;
          // arm64's "Freeing unused kernel memory" has no armhf line of its shape: it keeps the time of the line before
          expect(initmem[0], profile).toBeGreaterThan(profile === "arm64-6.1" ? 300_000 : 1_000_000);
        }
      }
    }
  });

  it("a boot without user space (the kernel's unit tests) keeps its clock near 0", () => {
    const sim = simBoot("x86_64-6.1", { config: "distro", userspace: false });
    expect(Math.max(...sim.map(([t]) => t))).toBeLessThan(10_000);
  });
});
