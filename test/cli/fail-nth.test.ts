// `kmodlab run --fail-nth N`: RunOptions.failNth from a terminal (src/cli/run.ts). A bad N is bad usage (exit 2)
// before any run; a good one runs through the isolated worker and stderr says which call was failed.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, restoreSpiesAfterEach } from "./capture.ts";

const dir = mkdtempSync(join(tmpdir(), "kmodlab-failnth-"));
const cellFile = join(dir, "two.ts");
writeFileSync(
  cellFile,
  `import { kmalloc, kfree, GFP_KERNEL, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let a = 0n;
function two_init(): number {
  a = kmalloc(100, GFP_KERNEL);
  if (!a) return -ENOMEM;
  return 0;
}
module_init(two_init);
module_exit(() => kfree(a));
`,
);

restoreSpiesAfterEach();

describe("kmodlab run --fail-nth", () => {
  for (const bad of ["0", "-1", "two", "1.5", "4294967296"]) {
    it(`--fail-nth ${bad} is bad usage (exit 2) with the range in the message`, async () => {
      const r = await cli(["run", cellFile, "--fail-nth", bad]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`bad --fail-nth '${bad}': expected an integer from 1 to 4294967295`);
    });
  }

  it("--fail-nth 1 fails init's kmalloc: the kernel's FAULT_INJECTION lines on stdout, insmod's error and the call on stderr", async () => {
    const r = await cli(["run", cellFile, "--fail-nth", "1"]);
    expect(r.out).toContain("FAULT_INJECTION: forcing a failure.\n");
    expect(r.out).toMatch(/ two_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]\n/);
    expect(r.err).toContain("insmod: ERROR: could not insert module cell.ko: Cannot allocate memory");
    expect(r.err).toContain("kmodlab: fail-nth 1: call 1 of 1 failed: kmalloc-128 (failslab, object size 128, GFP_KERNEL)");
  });

  it("--fail-nth on the 2.6 profile: the run says fail-nth does not exist there (exit 1)", async () => {
    const r = await cli(["run", cellFile, "--fail-nth", "1", "--profile", "i386-2.6"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("fail-nth arrived in Linux 4.13");
  });
});
