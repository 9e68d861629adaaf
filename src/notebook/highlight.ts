// A tiny TypeScript/C highlighter for static code and for cells before Monaco arrives.
// One regex pass, HTML-escaped output with <span class="tk-..."> classes; no dependencies, a few hundred bytes.

const KEYWORDS = new Set(
  (
    "import export from as function return let const var if else for while do break continue switch case default " +
    "new typeof instanceof void null undefined true false class extends this throw try catch finally of in " +
    "type interface enum declare readonly async await yield static struct unsigned int long char sizeof goto"
  ).split(" "),
);

const TOKEN =
  /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b0[xX][0-9a-fA-F_]+n?\b|\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?n?\b)|([A-Za-z_$][\w$]*)/g;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function highlightTs(src: string): string {
  let out = "";
  let last = 0;
  for (const m of src.matchAll(TOKEN)) {
    const i = m.index!;
    out += esc(src.slice(last, i));
    last = i + m[0].length;
    const cls = m[1]
      ? "com"
      : m[2]
        ? "str"
        : m[3]
          ? "num"
          : KEYWORDS.has(m[4])
            ? "kw"
            : /^[A-Z][A-Z0-9_]+$/.test(m[4])
              ? "const"
              : src[last] === "("
                ? "fn"
                : "";
    out += cls ? `<span class="tk-${cls}">${esc(m[0])}</span>` : esc(m[0]);
  }
  return out + esc(src.slice(last));
}
