// View: the page-table walk of one address, as the worker read it from the run's own kernel (src/kernel/mm/ptdump.ts):
// the address split into the index fields of each level, then one row per level (index, the table and entry's
// physical address, the entry's value and named bits, where it points), then the result: the physical address and
// PFN with the frame's owner, or the level where the walk stopped and why (a vmalloc guard page, a user address...).
// The panel lives in a cell's output; any address there (dmesg, the address-space view, /proc/vmallocinfo) opens it.

import type { WalkJson } from "../../kernel/mm/ptdump.ts";
import { h } from "../dom.ts";

/** A button that walks `addr` when clicked; `text` is what the output printed. */
export function addrButton(text: string, addr: bigint, walk: ((a: bigint) => void) | undefined): HTMLElement | string {
  if (!walk) return text;
  return h("button", { type: "button", class: "addr-link", title: `Walk the page tables for 0x${addr.toString(16)}`, onclick: () => walk(addr) }, text);
}

const hexAddr = /(?<![0-9a-fx])((?:0x)?(?:[0-9a-f]{16}|[0-9a-f]{8}))(?![0-9a-fx])/gi;

/** Text with every 8- or 16-digit hex number turned into an address button. */
export function linkAddresses(text: string, walk: ((a: bigint) => void) | undefined): (string | HTMLElement)[] {
  if (!walk) return [text];
  const out: (string | HTMLElement)[] = [];
  let last = 0;
  for (const m of text.matchAll(hexAddr)) {
    const tok = m[1];
    const v = BigInt(tok.toLowerCase().startsWith("0x") ? tok : "0x" + tok);
    if (v === 0n) continue;
    out.push(text.slice(last, m.index!));
    out.push(addrButton(tok, v, walk));
    last = m.index! + tok.length;
  }
  out.push(text.slice(last));
  return out.filter((x) => x !== "");
}

/** The address's bits [hi, lo] as binary. */
function bitsText(addr: bigint, hi: number, lo: number): string {
  return ((addr >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n)).toString(2).padStart(hi - lo + 1, "0");
}

function fmtSize(n: number): string {
  if (n >= 1 << 30) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20) return `${n / (1 << 20)} MiB`;
  return `${n / 1024} KiB`;
}

/** The address cut into the fields the walk used: each level's index bits, then the offset in the page. */
function addressFields(w: WalkJson): HTMLElement {
  const a = BigInt(w.addr);
  const top = w.addr.length - 2 > 8 ? 63 : 31;
  const used = w.steps.filter((s) => s.bits && !s.folded);
  const fields: { label: string; hi: number; lo: number; value: string; cls: string }[] = [];
  const highest = used[0]?.bits?.[0] ?? top;
  // x86_64: bits 63-48 copy bit 47 (canonical form); arm64: all ones select TTBR1, the kernel's table
  const upper = w.arch === "arm64" ? "TTBR1 select" : top === 63 ? "sign extension" : "unused";
  if (highest < top) fields.push({ label: upper, hi: top, lo: highest + 1, value: "", cls: "wf-sign" });
  for (const s of used) {
    const [hi, lo] = s.bits!;
    fields.push({ label: s.level, hi, lo, value: `index ${s.index}`, cls: `wf-${s.level.toLowerCase()}` });
    if (s.leaf || !s.present) break;
  }
  const lastLo = fields.length ? fields[fields.length - 1].lo : top + 1;
  if (w.translated) {
    const offBits = Math.log2(w.pageSize);
    // a large page: the levels below the leaf are offset bits too
    fields.push({ label: "offset", hi: offBits - 1, lo: 0, value: "0x" + (a & ((1n << BigInt(offBits)) - 1n)).toString(16), cls: "wf-offset" });
  } else if (lastLo > 0) fields.push({ label: w.steps.length ? "not used (walk stopped)" : "not used", hi: lastLo - 1, lo: 0, value: "", cls: "wf-rest" });
  return h(
    "div",
    { class: "walk-fields", role: "list", "aria-label": `${w.addr} split into the fields the walk uses` },
    fields.map((f) =>
      h(
        "div",
        { class: `walk-field ${f.cls}`, role: "listitem" },
        h("span", { class: "wf-label" }, f.label, " ", h("span", { class: "wf-range" }, `bits ${f.hi}–${f.lo}`)),
        h("code", { class: "wf-bits" }, f.hi - f.lo + 1 > 24 ? `${bitsText(a, f.hi, f.lo).slice(0, 8)}…` : bitsText(a, f.hi, f.lo)),
        f.value ? h("span", { class: "wf-value" }, f.value) : null,
      ),
    ),
  );
}

export function renderWalk(w: WalkJson): HTMLElement {
  const rows = w.steps.map((s) =>
    h(
      "tr",
      { class: `walk-row${s.folded ? " folded" : ""}${!s.present ? " absent" : ""}${s.leaf && !s.folded ? " leaf" : ""}` },
      h("th", { scope: "row" }, s.level),
      h("td", { class: "num" }, s.folded ? "—" : String(s.index), s.bits ? h("div", { class: "walk-sub" }, `bits ${s.bits[0]}–${s.bits[1]}`) : null),
      h(
        "td",
        { class: "mono" },
        s.folded ? "folded: same entry as above" : s.tablePhys,
        s.folded ? null : h("div", { class: "walk-sub" }, `entry at ${s.entryPhys}`),
      ),
      h("td", { class: "mono" }, s.entry, s.linuxEntry ? h("div", { class: "walk-sub" }, `Linux view ${s.linuxEntry}`) : null),
      h("td", { class: "walk-flags" }, s.present ? s.flags.join(" ") : h("strong", {}, "not present")),
      h(
        "td",
        {},
        s.folded
          ? ""
          : !s.present
            ? "✗ walk stops"
            : s.leaf
              ? s.mapsBytes
                ? `maps a ${fmtSize(s.mapsBytes)} ${w.arch === "arm" ? "section" : w.arch === "arm64" ? "block" : "page"}: walk ends`
                : "maps a 4 KiB page"
              : h("span", { class: "mono" }, `→ table ${s.next}`),
      ),
    ),
  );
  const result = w.translated
    ? h(
        "p",
        { class: "walk-result ok" },
        h("strong", {}, `→ physical ${w.pa}`),
        ` PFN ${w.pfn} (0x${w.pfn!.toString(16)}), ${fmtSize(w.pageSize)} mapping, ${w.writable ? "writable" : "read-only"}, ${w.executable ? "executable" : "not executable"}`,
        w.frame ? ` · frame owner: ${w.frame.owner}${w.frame.zone ? `, zone ${w.frame.zone}` : ""}` : "",
      )
    : h(
        "p",
        { class: "walk-result stop" },
        h("strong", {}, w.steps.length ? `✗ not mapped: the walk stops at the ${w.stoppedAt}` : "✗ no walk"),
        w.area?.guard ? " (guard page)" : "",
      );
  return h(
    "div",
    { class: "walk", "data-addr": w.addr },
    h(
      "p",
      { class: "walk-where" },
      h("code", {}, w.addr),
      w.region ? ` in ${w.region.name} (${w.region.start}–${w.region.end})` : "",
      w.area ? ` · vmap area ${w.area.start}–${w.area.end} ${w.area.caller}${w.area.pages ? ` pages=${w.area.pages}` : ""}` : "",
    ),
    h(
      "p",
      { class: "view-note" },
      w.when === "loaded"
        ? "As the tables were while the module was loaded (just before module_exit). "
        : w.when === "end"
          ? "As the tables were at the end of the run, after rmmod. "
          : "",
      `${w.paging}. The walk starts at the top-level table (swapper_pg_dir) at physical ${w.pgd}.`,
    ),
    addressFields(w),
    w.steps.length
      ? h(
          "table",
          { class: "proc-table walk-table" },
          h("caption", {}, "The entries the MMU reads, top level first"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["level", "index", "table (physical)", "entry", "bits set", "then"].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          h("tbody", {}, rows),
        )
      : null,
    result,
    h("p", { class: "walk-note" }, w.note),
  );
}

/** The walk panel of one cell's output: an address box, and the walk of whatever address was clicked last. */
export class WalkPanel {
  readonly root: HTMLElement;
  private body: HTMLElement;
  private input: HTMLInputElement;
  private seq = 0;
  private when: "loaded" | "end" = "loaded";
  private whenBox: HTMLElement;
  private last: bigint | undefined;

  constructor(
    private readonly fetchWalk: (addr: bigint, when?: "loaded" | "end") => Promise<WalkJson>,
    defaultAddr?: bigint,
  ) {
    this.input = h("input", {
      type: "text",
      class: "walk-input mono",
      size: 20,
      spellcheck: "false",
      "aria-label": "Address to walk (hex)",
      placeholder: "0xffff888000100000",
    });
    if (defaultAddr !== undefined) this.input.value = "0x" + defaultAddr.toString(16);
    this.body = h(
      "div",
      { class: "walk-body", "aria-live": "polite" },
      h(
        "p",
        { class: "view-note" },
        "Click any address in the output (dmesg, the address space, /proc/vmallocinfo), or type one, to see how the MMU translates it through this run's page tables.",
      ),
    );
    const radio = (value: "loaded" | "end", text: string) =>
      h(
        "label",
        {},
        h("input", { type: "radio", name: `walk-when-${++WalkPanel.n}`, value, checked: value === this.when, onchange: () => this.setWhen(value) }),
        ` ${text}`,
      );
    this.whenBox = h(
      "span",
      { class: "walk-when", role: "group", "aria-label": "Which moment of the run" },
      radio("loaded", "while the module was loaded"),
      " ",
      radio("end", "after rmmod"),
    );
    const form = h("form", { class: "walk-form" }, h("label", {}, "Address ", this.input), " ", h("button", { type: "submit" }, "Walk"), " ", this.whenBox);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const t = this.input.value.trim().replace(/^(0x)?/i, "0x");
      if (!/^0x[0-9a-f]{1,16}$/i.test(t)) {
        this.body.replaceChildren(h("p", { class: "walk-result stop" }, `“${this.input.value}” is not a hexadecimal address.`));
        return;
      }
      void this.show(BigInt(t), false);
    });
    this.root = h("details", { class: "view view-walk" }, h("summary", {}, "Page-table walk"), form, this.body);
  }

  private static n = 0;

  private setWhen(w: "loaded" | "end") {
    this.when = w;
    if (this.last !== undefined) void this.show(this.last, false);
  }

  /** Walk `addr` and show it; open the panel and bring it into view when a click asked for it. */
  async show(addr: bigint, reveal = true): Promise<void> {
    const n = ++this.seq;
    this.last = addr;
    this.input.value = "0x" + addr.toString(16);
    (this.root as HTMLDetailsElement).open = true;
    this.body.setAttribute("aria-busy", "true");
    let content: HTMLElement;
    try {
      const w = await this.fetchWalk(addr, this.when);
      // (radio names are numbered per panel to keep the two panels of two cells apart)
      this.whenBox.hidden = !w.canLoaded;
      content = renderWalk(w);
    } catch (e) {
      content = h("p", { class: "walk-result stop", role: "alert" }, `Could not walk 0x${addr.toString(16)}: ${(e as Error).message}`);
    }
    if (n !== this.seq) return; // a later click won
    this.body.removeAttribute("aria-busy");
    this.body.replaceChildren(content);
    if (reveal) this.root.scrollIntoView({ block: "nearest" });
  }
}
