// `kmodlab boot` on a 6.1 machine too small for its own boot: the serial console's log up to the kernel's panic on
// stdout, then the refusal on stderr (exit 2, a --mem the profile cannot boot).
import { describe, expect, it } from "vitest";
import { cli, restoreSpiesAfterEach } from "./capture.ts";

restoreSpiesAfterEach();

describe("kmodlab boot on a machine that runs out of memory during boot", () => {
  it("prints the boot log ending in out_of_memory()'s report and the panic, then the error; exit 2", async () => {
    const r = await cli(["boot", "--profile", "arm64-6.1", "--mem", "80M", "--config", "distro"]);
    expect(r.code).toBe(2);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\[ +0\.000000\] Booting Linux on physical CPU /);
    expect(lines.some((l) => / swapper\/0 invoked oom-killer: gfp_mask=0x[0-9a-f]+\(/.test(l))).toBe(true);
    expect(lines.some((l) => /\] Out of memory and no killable processes\.\.\.$/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/\] ---\[ end Kernel panic - not syncing: System is deadlocked on memory \]---$/);
    expect(r.err).toMatch(/^kmodlab: Kernel panic - not syncing: System is deadlocked on memory \(/);
  });
});
