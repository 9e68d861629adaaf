// The TypeScript a learner may write in a module cell: what sucrase compiles compiles and runs as written; a namespace
// that holds values, which sucrase erases as if it were a type (X.f is then undefined at run time), is a compile
// error that says so and names the way round, on the namespace's line.
import { describe, expect, it } from "vitest";
import { transpileCell } from "../../sandbox/transpile.ts";

const HEAD = `import { printk, KERN_INFO, module_init } from "linux";\n`;

describe("TypeScript in a module cell", () => {
  it("enums, const enums, #private fields, static blocks, satisfies, generators and type-only namespaces compile", () => {
    const src = `${HEAD}enum Phase { Load = 1, Unload }
const enum Lvl { Info = 6 }
declare namespace Ambient { const x: number; }
namespace Types { export interface Item { n: number } }
class C { #n = 0; static { void 0; } get n(): number { return this.#n; } }
function* g(): Generator<number> { yield Phase.Load; }
const cfg = { level: Lvl.Info } satisfies { level: number };
const it: Types.Item = { n: 1 };
module_init(() => { printk(KERN_INFO + "%d %d %d %d\\n", new C().n, [...g()][0], cfg.level, it.n); return 0; });
`;
    expect(transpileCell(src).ok).toBe(true);
  });

  it("a namespace holding values is a compile error naming it and the way round", () => {
    for (const [decl, name] of [
      ["namespace Msg {\n  export const hello = 'hi';\n}", "Msg"],
      ["export namespace A.B {\n  export function f() { return 1; }\n}", "A.B"],
      ["module Old {\n  export let y = 1;\n}", "Old"],
    ] as const) {
      const tr = transpileCell(`${HEAD}const before = 1;\n${decl}\nmodule_init(() => before - 1);\n`);
      expect(tr.ok, decl).toBe(false);
      if (tr.ok) continue;
      expect(tr.error.line).toBe(3);
      expect(tr.error.message).toContain(`erases namespace ${name} as if it were a type`);
      expect(tr.error.message).toContain(`use an object (const ${name} = { ... })`);
    }
  });
});
