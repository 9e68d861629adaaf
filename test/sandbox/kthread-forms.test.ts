// A kernel thread's function written the ways TypeScript allows (sandbox/kthread_transform.ts): a declaration, a
// function expression, an arrow with a block body (with and without parentheses) all become generators that sleep
// at their msleep; and RunOptions.loadedMs, how long the module stays loaded while its threads live.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { transformKthreads } from "../../sandbox/kthread_transform.ts";

const cell = (
  fn: string,
) => `import { kthread_run, kthread_stop, kthread_should_stop, task_struct, msleep, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
let t: task_struct | null = null;
${fn}
module_init(() => { t = kthread_run(tick, null, "ticker"); return 0; });
module_exit(() => { printk(KERN_INFO + "stopped after %d\\n", kthread_stop(t)); });
`;
const BODY = `{ let n = 0; while (!kthread_should_stop()) { n++; msleep(500); } return n; }`;
const FORMS: Record<string, string> = {
  declaration: `function tick(data: number): number ${BODY}`,
  "function expression": `const tick = function (data: number): number ${BODY};`,
  "named function expression": `let tick = function inner(data: number): number ${BODY};`,
  "arrow with parentheses": `const tick = (data: number): number => ${BODY};`,
  "arrow without parentheses": `var tick = data => ${BODY};`,
};

describe("a thread function's forms", () => {
  for (const [form, fn] of Object.entries(FORMS)) {
    it(`a ${form} sleeps at its msleep: the module stays loaded 5 s, ten ticks of 504 ms, and kthread_stop returns them`, async () => {
      const r = await runModule(cell(fn));
      expect(r.reports.map((x) => x.title)).toEqual([]);
      expect(r.dmesg.some((l) => l.endsWith("stopped after 10"))).toBe(true);
    });
  }

  it("the transform turns an arrow into function* with its => as two spaces, on the same line", () => {
    const js = `const b = (d) => { _linux.msleep.call(void 0, 5); };\n_linux.kthread_run.call(void 0, b, null, "b");`;
    expect(transformKthreads(js)).toBe(
      `const b = function* (d)    { (yield _linux.msleep.call(void 0, 5)); };\n_linux.kthread_run.call(void 0, b, null, "b");`,
    );
  });

  it("an arrow with an expression body, or a name not given to kthread_run, is left as it is", () => {
    const js = `const b = (d) => _linux.msleep.call(void 0, 5);\nconst c = (d) => { _linux.msleep.call(void 0, 5); };\n_linux.kthread_run.call(void 0, b, null, "b");`;
    expect(transformKthreads(js)).toBe(js);
  });
});

describe("RunOptions.loadedMs", () => {
  it("keeps the module loaded that long while its thread lives: 3000 ms gives 6 ticks of 504 ms, where 5 s gives 10", async () => {
    const r = await runModule(cell(FORMS.declaration), { loadedMs: 3000 });
    expect(r.reports).toEqual([]);
    expect(r.dmesg.some((l) => l.endsWith("stopped after 6"))).toBe(true);
  });

  it("is refused outside 1..60000 with a message naming it", async () => {
    for (const bad of [0, -1, 1.5, 60_001]) {
      const r = await runModule(cell(FORMS.declaration), { loadedMs: bad });
      expect(r.reports[0]?.title).toMatch(/loadedMs must be an integer from 1 to 60000/);
    }
  });
});

describe("RunOptions.busy (a busy machine)", () => {
  it("holds the thread back in each window: it wakes when the window ends, so its msleep(500) lasts longer and it counts less", async () => {
    // ticks at 0, 504; the wake-up at 1008 falls in [900, 1700): it runs at 1700, then 2204, 2708, 3212, 3716, 4220, 4724
    const r = await runModule(cell(FORMS.declaration), { busy: [{ atMs: 900, ms: 800 }] });
    expect(r.reports).toEqual([]);
    expect(r.dmesg.some((l) => l.endsWith("stopped after 9"))).toBe(true);
    const idle = await runModule(cell(FORMS.declaration), {});
    expect(idle.dmesg.some((l) => l.endsWith("stopped after 10"))).toBe(true);
  });

  it("is refused with a message naming its limits", async () => {
    const bad: unknown[] = [
      [{ atMs: -1, ms: 5 }],
      [{ atMs: 0, ms: 0 }],
      [{ atMs: 0, ms: 10_001 }],
      [{ atMs: 1.5, ms: 5 }],
      Array(101).fill({ atMs: 0, ms: 1 }),
      "x",
    ];
    for (const b of bad) {
      const r = await runModule(cell(FORMS.declaration), { busy: b as { atMs: number; ms: number }[] });
      expect(r.reports[0]?.title).toMatch(/busy/);
    }
  });
});
