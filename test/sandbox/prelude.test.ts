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

  it("gives what the character-at-a-time stripper gave, on the prelude and on random texts of quotes, escapes, slashes and spaces", () => {
    const reference = (src: string): string => {
      let out = "";
      let quote = "";
      for (let i = 0; i < src.length; i++) {
        const c = src[i]!;
        if (quote) {
          out += c;
          if (c === "\\") out += src[++i] ?? "";
          else if (c === quote || c === "\n") quote = "";
        } else if (c === '"' || c === "'") {
          quote = c;
          out += c;
        } else if (c === "/" && src[i + 1] === "/") {
          const end = src.indexOf("\n", i);
          i = (end < 0 ? src.length : end) - 1;
          let keep = out.length;
          while (keep > 0 && (out[keep - 1] === " " || out[keep - 1] === "\t")) keep--;
          out = out.slice(0, keep);
        } else out += c;
      }
      return out;
    };
    expect(PRELUDE).toBe(reference(PRELUDE_SOURCE));
    const alphabet = ["/", "/", "/", "'", '"', "\\", " ", "\t", "\n", "a", "b"];
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) / 65536;
    for (let t = 0; t < 3000; t++) {
      let text = "";
      for (let j = Math.floor(rnd() * 40); j > 0; j--) text += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(stripLineComments(text)).toBe(reference(text));
    }
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

describe("the host's clock and QuickJS's random seed do not reach a cell", () => {
  it("Math.random and Date give the same values in every run (a fixed seed, a fixed moment); Date with arguments converts as usual", async () => {
    const { runModule } = await import("../../sandbox/run.ts");
    const { FIXED_NOW } = await import("../../sandbox/prelude.ts");
    const cell = `import { printk, KERN_INFO, module_init } from "linux";
module_init(() => {
  const d = new Date();
  printk(KERN_INFO + "t %s %s %s %s %s %s\\n", String(Date.now()), String(d.getTime()), String(Math.random()), String(Math.random()), String(d instanceof Date), new Date(86400000).toISOString());
  return 0;
});
`;
    const lines = [];
    for (let i = 0; i < 2; i++) lines.push((await runModule(cell, {})).dmesg.find((l) => / t \d/.test(l))!.replace(/^.*\] /, ""));
    expect(lines[0]).toBe(lines[1]);
    const [, now, got, r1, r2, inst, iso] = lines[0]!.split(" ");
    expect([Number(now), Number(got)]).toEqual([FIXED_NOW, FIXED_NOW]);
    expect(Number(r1)).toBeGreaterThanOrEqual(0);
    expect(Number(r1)).toBeLessThan(1);
    expect(r1).not.toBe(r2);
    expect(inst).toBe("true");
    expect(iso).toBe("1970-01-02T00:00:00.000Z");
  });
  it("a cell's local time is UTC whatever the host's time zone: Date(), toString, the local getters, the local constructor, a string without a zone", async () => {
    const { runModule } = await import("../../sandbox/run.ts");
    const cell = `import { printk, KERN_INFO, module_init } from "linux";
module_init(() => {
  const d = new Date(2024, 6, 4, 15, 30, 5);
  const out = [Date(), String(new Date(0)), new Date(0).toTimeString(), new Date(0).toLocaleString(), String(new Date().getTimezoneOffset()), String(d.getTime()),
    String(d.getHours()), String(Date.parse("2024-01-01T10:00:00")), String(Date.parse("Jan 1 2024 10:00")), String(Date.parse("Jan 1 2024 10:00 EST")),
    String(new Date("2024-01-01 12:00").getTime())];
  printk(KERN_INFO + "t|%s\\n", out.join("|"));
  return 0;
});
`;
    const tz = process.env.TZ;
    const seen: string[] = [];
    try {
      for (const zone of ["UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"]) {
        process.env.TZ = zone;
        seen.push((await runModule(cell, {})).dmesg.find((l) => / t\|/.test(l))!.replace(/^.*\] t\|/, ""));
      }
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    expect(seen[0]!.split("|")).toEqual([
      "Mon Jan 01 2024 00:00:00 GMT+0000",
      "Thu Jan 01 1970 00:00:00 GMT+0000",
      "00:00:00 GMT+0000",
      "01/01/1970, 12:00:00 AM",
      "0",
      String(Date.UTC(2024, 6, 4, 15, 30, 5)),
      "15",
      String(Date.UTC(2024, 0, 1, 10)),
      String(Date.UTC(2024, 0, 1, 10)),
      String(Date.UTC(2024, 0, 1, 15)), // a string that names its zone keeps it
      String(Date.UTC(2024, 0, 1, 12)),
    ]);
    expect(new Set(seen).size).toBe(1);
  });
});
