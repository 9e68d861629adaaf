// A runaway recursion whose host stack runs out before QuickJS's own stack limit (a browser worker's stack is smaller
// than Node's main thread's; here `node --stack-size=200`) is the stack limit for the learner, not an internal
// error, and nothing is freed from the half-unwound QuickJS runtime: QuickJS's JS_FreeRuntime assertion
// "Aborted(Assertion failed: list_empty(&rt->gc_obj_list))" is never printed. The next run works (a fresh module).
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./fixtures/host-stack-run.ts", import.meta.url));

describe("host stack overflow inside the guest", () => {
  it("is reported as the stack limit, prints no QuickJS abort, and the next run is clean", () => {
    const out = execFileSync(process.execPath, ["--stack-size=200", "--import", "tsx", script], { encoding: "utf8", timeout: 120_000 });
    const r = JSON.parse(out) as { reports: { kind: string; title: string; limit?: string }[]; console: string[]; after: string[]; afterReports: number };
    expect(r.reports).toEqual([
      { kind: "limit", limit: "stack", title: "kmodlab: stack depth limit reached (the host's stack ran out before the guest's 262144 bytes)" },
    ]);
    expect(r.console.filter((l) => /Aborted|list_empty|Assertion/.test(l))).toEqual([]);
    expect(r.console).toEqual([]);
    expect(r.after.some((l) => l.endsWith("] still here"))).toBe(true);
    expect(r.afterReports).toBe(0);
  }, 150_000);
});
