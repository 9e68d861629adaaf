// The report cards' words (src/notebook/output.ts): true for the notebook, whatever the report.
import { describe, expect, it } from "vitest";
import { collapseFrames, compileExplain, fmtNs, limitExplain, limitHeading, loopLine, thousands } from "../../src/notebook/output.ts";
import { runModule } from "../../sandbox/run.ts";
import { fakeDeps } from "../sandbox/fake-kernel.ts";

const cpu = {
  kind: "timeout" as const,
  title: "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:108]",
  text: "",
  limit: "cpu" as const,
  explain: "The module ran for more than 2000 ms of CPU time (the run's CPU limit) and was stopped. Look for a loop that never ends, or raise limits.cpuMs.",
};

describe("report cards", () => {
  it("the timeout card names the notebook's own control, not limits.cpuMs", () => {
    const t = limitExplain(cpu)!;
    expect(t).not.toMatch(/limits\.cpuMs/);
    expect(t).toMatch(
      /more than 2000 ms of CPU time \(this cell's CPU limit\) and was stopped\. Look for a loop that never ends\. If the work is meant to take longer, raise the CPU limit in the cell's Machine settings/,
    );
    expect(
      limitExplain({
        ...cpu,
        limit: "log",
        explain: "The module printed more than 1 MiB (the run's log size limit) and was stopped. Print less inside loops, or raise limits.logBytes.",
      }),
    ).toBe("The module printed more than 1 MiB (the run's log size limit) and was stopped. Print less inside loops.");
  });

  it("a limit heading only for the sandbox's limits: a BUG report that mentions a call stack keeps its own title", () => {
    expect(limitHeading(cpu)).toBe("Stopped: the module ran too long");
    expect(limitHeading({ kind: "limit", title: "kmodlab: stack depth limit reached (262144 bytes)", text: "", limit: "stack" })).toMatch(
      /recursed too deeply/,
    );
    expect(limitHeading({ kind: "bug", title: "kernel BUG at mm/slub.c:379!", text: "Call Trace:\n call stack ..." })).toBeUndefined();
  });

  it("the limit card's line is the loop's, not the function's", () => {
    const src = 'import { module_init } from "linux";\nfunction init(): number {\n  let i = 0;\n  // spin\n  while (true) { i++; }\n}\nmodule_init(init);\n';
    expect(loopLine(src, 2)).toBe(5);
    expect(loopLine("function f() { while (true) {} }", 1)).toBe(1);
    expect(loopLine("function f() {\n  return 1;\n}\nwhile (true) {}", 1)).toBe(1);
  });

  it("a recursion's frames are one link with a count", () => {
    const f = Array.from({ length: 2345 }, () => ({ fn: "f", line: 2 }));
    expect(collapseFrames([...f, { fn: "(top level)", line: 3 }]).map((x) => [x.fn, x.times])).toEqual([
      ["f", 2345],
      ["(top level)", 1],
    ]);
  });

  it("figures read well", () => {
    expect(fmtNs(460)).toBe("460 ns");
    expect(fmtNs(99880)).toBe("99.9 µs");
    expect(fmtNs(6154646000)).toBe("6.155 s");
    expect(thousands(100001)).toBe("100,001");
  });
});

describe("a compile error's card says what kind it is", () => {
  const card = async (src: string) => compileExplain((await runModule(src, {}, fakeDeps())).reports.find((r) => r.kind === "compile-error")!);
  it("a syntax error is not valid TypeScript", async () => {
    expect(await card("module_init(() => {")).toBe("The cell is not valid TypeScript. The line is marked in the editor.");
  });
  it("code past the compiler's limits is not called invalid", async () => {
    const deep = await card(`const x = ${"(".repeat(100_000)}1${")".repeat(100_000)};`);
    expect(deep).toMatch(/^The cell may be valid TypeScript, but it is past one of the compiler's limits/);
    expect(await card(`// ${"x".repeat(300 * 1024)}\n`)).toBe(deep);
  });
});

describe("a machine the kernel cannot boot", () => {
  it("says the settings are the cause, not a BUG_ON, and that the module never ran", async () => {
    const { JSDOM } = await import("jsdom");
    const { window } = new JSDOM("");
    Object.assign(globalThis, {
      document: window.document,
      getComputedStyle: window.getComputedStyle.bind(window),
      requestAnimationFrame: () => 0,
      Node: window.Node,
    });
    const { renderOutcome } = await import("../../src/notebook/output.ts");
    const { loadKernelDeps } = await import("../../sandbox/run.ts");
    const src = 'import { module_init } from "linux";\nmodule_init(() => 0);\n';
    const result = await runModule(src, { profile: "i386-2.6", mem: 12 * 1024 }, await loadKernelDeps());
    expect(result.bootRefused).toMatch(/too little to boot/);
    const el = document.createElement("div");
    renderOutcome(el, { kind: "result", result, ms: 1, runId: 1 }, { gotoLine: () => {}, moduleFns: () => [], walk: async () => ({}) as never });
    expect(el.querySelector(".run-summary")!.textContent).toBe("i386-2.6: The machine did not boot with these settings: the module never ran.");
    const card = el.querySelector(".report")!;
    expect(card.querySelector("h4")!.textContent).toMatch(/cannot boot i386-2\.6: .*12 KiB of RAM is too little to boot/);
    expect(card.querySelector(".explain")!.textContent).toMatch(
      /cannot boot this machine \(its RAM or command line\)\. Change them in the cell's Machine settings/,
    );
    expect(card.querySelector(".explain")!.textContent).not.toMatch(/BUG_ON/);
  });
});
