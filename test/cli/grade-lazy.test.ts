// kmodlab grade DIR reads each submission when its turn comes, not all of them before the first is graded: holding
// every text for the whole grade made 60 files of 16 MiB (each a source-size LimitError) take 1.32 GB of the host.
// The listing reads each file once for its hash and drops it; the test sees the difference by removing a file once
// that listing is done (gradeCommand's synchronous part) and the first submission is being graded: read when its turn
// comes, the file is gone and says so; read up front (before the fix), it was graded from the copy held in memory.

import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gradeCommand } from "../../src/cli/grade.ts";
import type { GradeResult } from "../../src/grader/types.ts";

const dir = mkdtempSync(join(tmpdir(), "kmodlab-grade-lazy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hello = (n: number) => `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
// submission ${n}
module_init(() => { printk(KERN_INFO + "hello, kernel\\n"); return 0; });
module_exit(() => { printk(KERN_INFO + "goodbye, kernel\\n"); });
`;

describe("kmodlab grade DIR", () => {
  it("reads a submission when its turn comes (at most --jobs texts held), not every one up front", async () => {
    const subs = join(dir, "subs");
    const out = join(dir, "out.json");
    mkdirSync(subs);
    for (const n of [1, 2, 3]) writeFileSync(join(subs, `s${n}.ts`), hello(n));
    const graded = gradeCommand("hello-module", subs, { format: "json", out, jobs: "1" });
    unlinkSync(join(subs, "s3.ts")); // listed and hashed already; s1 is being graded
    expect(await graded).toBe(0); // -o: the results are written, exit 0 unless --strict
    const { results } = JSON.parse(readFileSync(out, "utf8")) as { results: GradeResult[] };
    expect(results.map((g) => [g.file, g.passed])).toEqual([
      ["s1.ts", true],
      ["s2.ts", true],
      ["s3.ts", false],
    ]);
    expect(results[2]!.error).toMatch(/^cannot read .*s3\.ts: ENOENT/);
  }, 240_000);

  it("grades every .ts entry it lists: a name that is not UTF-8 by its bytes, a dangling link and a link loop as unreadable (they ended the whole grade)", async () => {
    const subs = join(dir, "odd");
    const out = join(dir, "odd.json");
    mkdirSync(subs);
    writeFileSync(join(subs, "s1.ts"), hello(1));
    writeFileSync(Buffer.concat([Buffer.from(join(subs, "bad")), Buffer.from([0xff, 0xfe]), Buffer.from(".ts")]), hello(1));
    symlinkSync("nowhere.ts", join(subs, "gone.ts"));
    symlinkSync("loop.ts", join(subs, "loop.ts"));
    expect(await gradeCommand("hello-module", subs, { format: "json", out, jobs: "1" })).toBe(0);
    const { results } = JSON.parse(readFileSync(out, "utf8")) as { results: GradeResult[] };
    expect(results.map((g) => [g.file, g.passed])).toEqual([
      ["bad\ufffd\ufffd.ts", true], // the same text as s1.ts: one run, its verdict
      ["gone.ts", false],
      ["loop.ts", false],
      ["s1.ts", true],
    ]);
    expect(results[1]!.error).toMatch(/^cannot read .*gone\.ts: ENOENT/);
    expect(results[2]!.error).toMatch(/^cannot read .*loop\.ts: ELOOP/);
  }, 240_000);
});
