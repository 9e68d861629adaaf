// The prelude (sandbox/prelude.ts) runs without its comments: QuickJS compiles it at every run.
import { describe, expect, it } from "vitest";
import { PRELUDE, PRELUDE_SOURCE, stripLineComments } from "../../sandbox/prelude.ts";
import { loadQuickJS } from "../../sandbox/quickjs.ts";

describe("the prelude without its comments", () => {
  it("keeps every line and every column of code: each line is the written line cut before its comment", () => {
    const written = PRELUDE_SOURCE.split("\n");
    const run = PRELUDE.split("\n");
    expect(run.length).toBe(written.length);
    let cut = 0;
    run.forEach((line, i) => {
      const w = written[i]!;
      expect(w.startsWith(line)).toBe(true);
      if (line !== w) {
        cut++;
        expect(w.slice(line.length).trimStart().startsWith("//")).toBe(true);
      }
    });
    expect(cut).toBeGreaterThan(20); // the comments went (the prelude has dozens)
    expect(PRELUDE).not.toMatch(/\/\/ /);
    expect(PRELUDE.length).toBeLessThan(0.8 * PRELUDE_SOURCE.length);
  });

  it("keeps a // inside a string, and quotes and escapes in code, and drops comments after code", () => {
    expect(stripLineComments(`a("x // y"); // gone\nb('it\\'s // kept') // gone too\n  // whole line\nc();`)).toBe(`a("x // y");\nb('it\\'s // kept')\n\nc();`);
    expect(stripLineComments(`const u = "http://example"; /* not a line comment */`)).toBe(`const u = "http://example"; /* not a line comment */`);
  });

  it("compiles in QuickJS to a function", async () => {
    const q = await loadQuickJS();
    const rt = q.newRuntime();
    const ctx = rt.newContext();
    try {
      const r = ctx.evalCode(PRELUDE, "linux");
      const fn = ctx.unwrapResult(r);
      expect(ctx.typeof(fn)).toBe("function");
      fn.dispose();
    } finally {
      ctx.dispose();
      rt.dispose();
    }
  });
});
