// A few DOM helpers: build elements with text (never innerHTML for run output: module text is untrusted).

type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;
type Child = Node | string | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (k === "class") el.className = String(v);
    else if (k === "text") el.textContent = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of (children as unknown[]).flat(Infinity) as Child[]) if (c !== null && c !== undefined && c !== false) el.append(c as Node | string);
  return el;
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(v >= 10 ? 1 : 2).replace(/\.?0+$/, "")} ${units[i]}`;
}

export function fmtBig(n: bigint): string {
  if (n < 0n) return "-" + fmtBig(-n);
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return fmtBytes(Number(n));
  return fmtBytes(Number(n));
}

/** "0x..." / bare hex / decimal / bigint / number -> bigint, or undefined. */
export function toBig(v: unknown): bigint | undefined {
  try {
    if (typeof v === "bigint") return v;
    if (typeof v === "number" && Number.isFinite(v)) return BigInt(Math.trunc(v));
    if (typeof v === "string" && v) {
      if (/^0x[0-9a-f]+$/i.test(v)) return BigInt(v);
      if (/^\d+$/.test(v)) return BigInt(v);
    }
  } catch {
    /* not a number */
  }
  return undefined;
}

export function hex(v: bigint, width = 0): string {
  return "0x" + v.toString(16).padStart(width, "0");
}
