// The guest half of the bridge: a small script, evaluated once per run before the cell, that assembles the
// frozen "linux" and "sim" module objects from the host functions and the table's shape. It captures every
// builtin it uses at evaluation time, so a cell that later tampers with Object, WeakMap, Reflect or
// Array.prototype cannot change what the bridge does.
//
// Handles: a kernel object a module declares (new timer_list(), DEFINE_SPINLOCK()) is a frozen guest object;
// its kernel id lives in a WeakMap private to this closure. The host only ever sees ids the kernel handed out,
// and only through these wrappers, so a cell cannot forge one: an object not made here is rejected with a
// TypeError naming the function and the parameter.

export const PRELUDE_FILE = "linux";

/**
 * `src` without its line comments: each comment's text is dropped and its line kept (a comment-only line becomes
 * empty), so every line and column of code stays where it is in this file (guest stack lines in the prelude keep
 * their numbers). QuickJS compiles the prelude at every run, and its comments are a third of its text. Quotes are
 * followed ('...', "...", with escapes), so a "//" inside a string stays; the prelude has no template literals,
 * regular expressions or block comments.
 */
export function stripLineComments(src: string): string {
  // the text is copied in runs between comments (a character at a time, it took ~1 ms of every start on a cold JIT)
  let out = "";
  let from = 0; // src[from, i) is still to be copied
  let quote = 0;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const c = src.charCodeAt(i);
    if (quote) {
      if (c === 92)
        i++; // a backslash: the next character is escaped
      else if (c === quote || c === 10) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 47 && src.charCodeAt(i + 1) === 47) {
      let keep = i; // the spaces before the comment go too (from is 0 or a line's end: they never reach before it)
      while (keep > from && (src.charCodeAt(keep - 1) === 32 || src.charCodeAt(keep - 1) === 9)) keep--;
      out += src.slice(from, keep);
      const end = src.indexOf("\n", i);
      from = end < 0 ? n : end;
      i = from - 1;
    }
  }
  return out + src.slice(from);
}

/** What Date.now() and `new Date()` give a cell (ms since the epoch): one fixed moment, 2024-01-01T00:00:00Z. */
export const FIXED_NOW = 1704067200000;

/** The prelude's source as written (with its comments); PRELUDE is what runs. */
export const PRELUDE_SOURCE = String.raw`(function (natives, specJson) {
  "use strict";
  const spec = JSON.parse(specJson);
  const apply = Reflect.apply, freeze = Object.freeze, create = Object.create, defineProperty = Object.defineProperty;
  const TE = TypeError, E = Error, stringify = JSON.stringify;
  const wmGet = WeakMap.prototype.get, wmSet = WeakMap.prototype.set, mapGet = Map.prototype.get, mapSet = Map.prototype.set;
  const records = new WeakMap();
  const byId = new Map();
  const classes = create(null);
  // a bigint past validate.ts's WIDE_BIGINT_BITS is not written out: its text takes time quadratic in its width
  const WIDE = BigInt(1) << BigInt(287);
  const describe = (v) => {
    const t = typeof v;
    if (t === "bigint" && (v >= WIDE || v < -WIDE)) return "a bigint of more than 256 bits";
    // a long one by its length (validate.ts describeHandle's bound): its JSON text was made in full for each refused call
    if (t === "string") return v.length > 4096 ? "a string of " + v.length + " characters" : apply(stringify, undefined, [v]) + " (string)";
    if (t === "number" || t === "boolean") return "" + v + " (" + t + ")";
    if (t === "bigint") return "" + v + "n (bigint)";
    if (v === null) return "null";
    if (t === "undefined") return "undefined";
    if (t === "function") return "a function";
    return "an object";
  };
  const keyOf = (type, id) => type + ":" + id;
  const record = (o, type, id) => { apply(wmSet, records, [o, freeze({ type, id })]); apply(mapSet, byId, [keyOf(type, id), o]); freeze(o); return o; };
  const handleFor = (type, id) => {
    const have = apply(mapGet, byId, [keyOf(type, id)]);
    if (have !== undefined) return have;
    return record(create(classes[type].prototype), type, id);
  };
  const linux = create(null), sim = create(null), user = create(null);
  const target = (m) => (m === "sim" ? sim : m === "user" ? user : linux);
  for (const c of spec.classes) {
    const native = c.create === null ? undefined : natives[c.create];
    const madeWith = c.madeWith;
    const C = ({ [c.name]: class {
      constructor() {
        if (native === undefined) throw new TE(c.name + " is made with " + madeWith + ", not new " + c.name + "()");
        record(this, c.name, apply(native, undefined, []));
      }
    } })[c.name];
    freeze(C.prototype);
    freeze(C);
    classes[c.name] = C;
    defineProperty(target(c.module), c.name, { value: C, enumerable: true });
  }
  // Addresses as numbers across the boundary (bindings.ts encodeAddr): the signed 64-bit value, exact in
  // [0, 2^53] and [2^64 - 2^53, 2^64). The call's mask (passed as the native's this) marks encoded arguments.
  const Big = BigInt, TWO64 = Big(1) << Big(64), MAX_POS = Big(1) << Big(53), MIN_NEG = TWO64 - MAX_POS, ZERO = Big(0), toNum = Number;
  // Addresses made once: each address result is interned (number -> its bigint, and back), so a call that returns an
  // address the wrapper has seen makes no bigint, and passing that bigint back (kfree(p)) costs one lookup instead of
  // four bigint comparisons and a subtraction. Bounded: cleared at ADDR_CACHE entries. The maps are private to this
  // closure and their methods are own properties (the originals), so a cell that replaces Map.prototype's changes
  // nothing here. An address the cell computed (p + 8n) is encoded as before.
  const own = (m) => { defineProperty(m, "get", { value: mapGet }); defineProperty(m, "set", { value: mapSet }); defineProperty(m, "clear", { value: Map.prototype.clear }); return m; };
  const BIGS = own(new Map()), NUMS = own(new Map()), ADDR_CACHE = 4096;
  let interned = 0;
  const intern = (r) => {
    const b = r < 0 ? Big(r) + TWO64 : Big(r);
    if (++interned > ADDR_CACHE) { BIGS.clear(); NUMS.clear(); interned = 1; }
    BIGS.set(r, b);
    NUMS.set(b, r);
    return b;
  };
  const encode = (v) => {
    // the number that carries bigint v (bindings.ts encodeAddr), undefined when none does
    if (v >= ZERO && v <= MAX_POS) return toNum(v);
    if (v >= MIN_NEG && v < TWO64) return toNum(v - TWO64);
    return undefined;
  };
  // Every function of the table is one wrapper around the one host dispatcher: it checks handles, marks
  // arguments (bindings.ts CODE_ID) and calls the dispatcher with the row's code as this.
  // Two ways in: the exported function (call bound to site 0: no prototype, its source reads as native code, as a
  // kernel function should to the module), and its "call", which the transpiler's kernel-call sites use (transpile.ts
  // markSites: "_linux.kmalloc.call(12    , ...)"): the first argument is the site's number, added to the code
  // (bindings.ts SITE_UNIT), so the host knows the call's line without a walk of this stack. "call" is on a prototype
  // of the function's own (its own properties stay length and name), for the functions the cell calls at a site only
  // (a namespace import makes none); any other first argument is a this, ignored as a bound function ignores it.
  // "call" is the wrapper itself, not bound (a bound function cost a call of its own, about 0.3-0.7 us here): its
  // source shows, but it holds nothing of the host's.
  const dispatch = natives.dispatch, bind = Function.prototype.bind, FnProto = Function.prototype, setProto = Object.setPrototypeOf;
  const SITES = spec.sites, SITE_UNIT = spec.siteUnit, STACK_BIT = spec.stackBit;
  // Rows whose calls need the guest's stack (the bridge sets hungry[row]: KASAN's and SLUB's tracks on a debug kernel):
  // the wrapper takes it here, one new Error() in the guest, and names each distinct text by a small id, so the host
  // need not call back into the guest for it (bindings.ts HUNGRY_AFTER). takeStack is TAKE_STACK below, compiled in
  // this context when the host first marks a row hungry (setTake): most runs never do, and the prelude is compiled at
  // every run. It gets the builtins captured here, so a cell that tampered with Map or Error since changes nothing.
  const hungry = [], setStack = natives.setStack, mapClear = Map.prototype.clear, OMap = Map;
  let takeStack;
  const setTake = (make) => { if (takeStack === undefined) takeStack = make(E, apply, mapGet, mapSet, mapClear, setStack, OMap); };
  // The shadow stack (shadow.ts): an instrumented cell keeps, in KS, the site each of its frames is at (KS[d]) and
  // passes its depth with a kernel call's site (depth * SH_UNIT + site). The sequence KS[1..depth] names the stack:
  // each distinct one is a node of a call tree (nodeOf: parent * SH_UNIT + site -> node), whose frames the host
  // gets once, from one new Error() (setNode checks them: as many cell frames as the depth, the innermost on the
  // site's line); a call from a node the host holds passes the node instead of the site (NODE_BIT) and takes no
  // stack. pn/ps: the nodes of the last path and the sites they were made from (a path shares its prefix with the
  // last one in a loop). Bounded: MAX_NODES nodes, then calls from new stacks take theirs as before.
  const SHADOW = spec.shadowRequire, SH_UNIT = spec.shadowUnit, SLOTS = spec.shadowSlots, NODE_BIT = spec.nodeBit, MAX_NODES = spec.maxNodes, floor = Math.floor;
  const KS = new Int32Array(SLOTS), pn = new Int32Array(SLOTS + 1), ps = new Int32Array(SLOTS + 1), nodeOf = new Map(), nodeState = [];
  // per kernel-call site: the frame node its last call came from, and the call's node (a loop's calls: no lookup)
  const leafFrame = new Int32Array(SITES + 1), leafNode = new Int32Array(SITES + 1), fast1 = new Float64Array(SITES + 1), SH_UNIT2 = 2 * SH_UNIT;
  defineProperty(nodeOf, "get", { value: mapGet }); defineProperty(nodeOf, "set", { value: mapSet }); // own: a cell's Map.prototype changes nothing
  KS[0] = spec.shadowUnknown;
  ps.fill(-1);
  const setNode = natives.setNode;
  let nodes = 0;
  // the site part of a call's code: site, or node and NODE_BIT; STACK_BIT when the wrapper took the stack itself
  // the node for (parent, site), made when new (0: past MAX_NODES)
  const child = (parent, site) => {
    const key = parent * SH_UNIT + site;
    let c = nodeOf.get(key);
    if (c === undefined) {
      if (nodes >= MAX_NODES) return 0;
      c = ++nodes;
      nodeOf.set(key, c);
    }
    return c;
  };
  const siteCode = (site, row) => {
    // a kernel call in a function the host entered (depth 1: module_init, a callback) whose node the host holds: its
    // code, worked out once (most of a cell's calls)
    if (site > SH_UNIT && site < SH_UNIT2) {
      const c = fast1[site - SH_UNIT];
      if (c > 0) { KS[1] = site - SH_UNIT; return c; }
    }
    let s = typeof site === "number" ? site : 0, d = 0;
    if (s >= SH_UNIT) { d = (s / SH_UNIT) >>> 0; s -= d * SH_UNIT; } // depth * unit + site (>>> 0: no Math.floor call)
    else if (s < 0) { d = floor(s / SH_UNIT); s -= d * SH_UNIT; } // an unknown depth
    if (!(s > 0 && s <= SITES && s === (s | 0))) s = d = 0;
    if (d > 0 && d < SLOTS) {
      KS[d] = s; // where frame d is: a callback the kernel runs in this call is entered above it
      // the frame's node: the path of call sites below the kernel call (a loop's calls share it), then the call's
      let frame = 0, i = 1, known = true;
      while (i < d && ps[i] === KS[i]) frame = pn[i++];
      if (i < d) {
        for (; i < d; i++) {
          frame = child(frame, KS[i]);
          if (frame === 0) { known = false; break; }
          pn[i] = frame;
          ps[i] = KS[i];
        }
        ps[i] = -1; // a longer path than this one shares nothing past it
      }
      let node = 0;
      if (known) {
        if (leafNode[s] > 0 && leafFrame[s] === frame) node = leafNode[s];
        else if ((node = child(frame, s)) > 0) { leafFrame[s] = frame; leafNode[s] = node; }
      }
      if (node > 0) {
        let st = nodeState[node];
        if (st === undefined) nodeState[node] = st = setNode(node, s, d, new E().stack) === true ? 1 : 2;
        if (st === 1) return d === 1 ? (fast1[s] = node * SITE_UNIT + NODE_BIT) : node * SITE_UNIT + NODE_BIT;
        if (hungry[row] === true) { takeStack(); return node * SITE_UNIT + NODE_BIT + STACK_BIT; }
        return node * SITE_UNIT + NODE_BIT;
      }
    }
    if (hungry[row] === true) { takeStack(); return s * SITE_UNIT + STACK_BIT; }
    return s * SITE_UNIT;
  };
  for (const f of spec.functions) {
    const name = f.name, hs = f.handles, nh = hs.length, ret = f.returnsHandle, ap = f.addrParams, na = ap.length, np = f.numParams, nn = np.length;
    const retAddr = f.returnsAddr, code = f.code, row = f.row;
    // the first address parameter and the first two numeric ones are checked without a loop (99: none)
    const a0 = na > 0 ? ap[0] : 99, n0 = nn > 0 ? np[0] : 99, n1 = nn > 1 ? np[1] : 99, b0 = 1 << (n0 + 8), b1 = 1 << (n1 + 8);
    // rest parameter: the host counts the arguments the cell passed (its messages say "takes 1 argument (addr), got 2")
    const call = (site, ...args) => {
      const n = args.length;
      for (let i = 0; i < nh; i++) {
        const h = hs[i], v = args[h.index];
        const rec = (typeof v === "object" && v !== null) ? apply(wmGet, records, [v]) : undefined;
        if (rec === undefined || rec.type !== h.type)
          throw new TE(name + ": parameter '" + h.param + "' must be " + h.article + " " + h.type + " (made with " + h.madeWith + "), got " + describe(v));
        args[h.index] = rec.id;
      }
      let mask = 0;
      if (a0 < n) {
        const v = args[a0];
        if (typeof v === "bigint") { // else the host's check names the parameter and the wrong type
          let e = NUMS.get(v);
          if (e === undefined) e = encode(v);
          if (e !== undefined) { args[a0] = e; mask = 1 << a0; } // else it travels as a bigint; the host refuses it by range
        }
      }
      for (let i = 1; i < na; i++) {
        const j = ap[i];
        if (j >= n) break;
        const v = args[j];
        if (typeof v !== "bigint") continue;
        const e = encode(v);
        if (e !== undefined) { args[j] = e; mask |= 1 << j; }
      }
      // numbers the wrapper saw (bindings.ts NUM_SHIFT): the host skips its typeof
      if (n0 < n && typeof args[n0] === "number") mask |= b0;
      if (n1 < n && typeof args[n1] === "number") mask |= b1;
      for (let i = 2; i < nn; i++) {
        const j = np[i];
        if (j >= n) break;
        if (typeof args[j] === "number") mask |= 1 << (j + 8);
      }
      // a plain site of a row that takes no stack (every call on a distro kernel) without siteCode's call
      const sc =
        typeof site === "number" && site > 0 && site <= SITES && site === (site | 0) && hungry[row] !== true ? site * SITE_UNIT
        : site === 0 ? (hungry[row] === true ? (takeStack(), STACK_BIT) : 0)
        : siteCode(site, row);
      const r = apply(dispatch, code + sc + mask, args);
      if (retAddr) {
        if (typeof r !== "number") return r;
        const b = BIGS.get(r);
        return b !== undefined ? b : intern(r);
      }
      return ret ? (r === 0 ? null : handleFor(ret, r)) : r; // id 0: the kernel returned NULL
    };
    // The exported function is call with site 0, bound (no prototype; its source reads as native code, as a kernel
    // function's should to the module).
    const exported = apply(bind, call, [undefined, 0]);
    defineProperty(exported, "name", { value: name });
    // a row the host serves at its sites without this wrapper (bindings.ts hostCall): its "call" is the host's own
    const hostCall = natives["call:" + row];
    if (f.sited) setProto(exported, freeze(create(FnProto, { call: { value: hostCall !== undefined ? hostCall : call, writable: true, configurable: true } })));
    defineProperty(target(f.module), f.name, { value: exported, enumerable: true });
  }
  for (const v of spec.variables) defineProperty(target(v.module), v.name, { get: natives[v.getter], enumerable: true });
  for (const c of spec.constants) defineProperty(target(c.module), c.name, { value: c.big ? Big(c.value) : c.value, enumerable: true });
  // sucrase's import * as X interop returns a module object marked __esModule as it is (else a mutable copy).
  defineProperty(linux, "__esModule", { value: true }); defineProperty(sim, "__esModule", { value: true }); defineProperty(user, "__esModule", { value: true });
  freeze(linux); freeze(sim); freeze(user);
  const modules = { linux, sim, user };
  const require = (name) => {
    if (name === "linux") return linux;
    if (name === "sim") return sim;
    if (name === "user") return user;
    if (name === SHADOW) return KS; // the instrumented top level's (shadow.ts)
    throw new E("cannot import " + apply(stringify, undefined, [name]) + ": only \"linux\", \"sim\" and \"user\" exist here");
  };
  const stack = () => new E().stack;
  // Proxies are made through a wrapper of the global Proxy that remembers each one, so that reading a callback's
  // name (and a thrown value's fields) never runs a Proxy trap inside a kernel call: ECMAScript has no other way to
  // tell a Proxy from its target without touching it (even Function.prototype.toString reads "name" through it).
  const OP = Proxy, opRevocable = Proxy.revocable, wsAdd = WeakSet.prototype.add, wsHas = WeakSet.prototype.has;
  const proxies = new WeakSet();
  const P = function Proxy(target, handler) {
    if (new.target === undefined) throw new TE("Proxy constructor requires 'new'");
    const p = new OP(target, handler);
    apply(wsAdd, proxies, [p]);
    return p;
  };
  const PB = apply(bind, P, [undefined]); // as the original: no prototype, reads as native code
  defineProperty(PB, "name", { value: "Proxy" });
  const rev = apply(bind, function revocable(target, handler) {
    const r = apply(opRevocable, OP, [target, handler]);
    apply(wsAdd, proxies, [r.proxy]);
    return r;
  }, [undefined]);
  defineProperty(rev, "name", { value: "revocable" });
  defineProperty(PB, "revocable", { value: rev, writable: true, configurable: true });
  defineProperty(globalThis, "Proxy", { value: PB, writable: true, configurable: true, enumerable: false });
  const isProxy = (v) => apply(wsHas, proxies, [v]);
  // The same cell gives the same run (DESIGN: deterministic; the grader runs a text once and gives its copies the
  // verdict): QuickJS seeds Math.random from the host's clock and Date reads the host's clock. Here Math.random is a
  // xorshift32 of a fixed seed, fresh at each run, and Date.now() and a Date made without arguments are one fixed
  // moment (FIXED_NOW: the simulated machine has no real-time clock; a module's time is jiffies or ktime_get).
  let rnd = 0x2545f491;
  defineProperty(Math, "random", {
    value: function random() {
      rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5;
      return (rnd >>> 0) / 4294967296;
    },
    writable: true, configurable: true, enumerable: false,
  });
  const OD = Date, construct = Reflect.construct, FIXED_NOW = ${FIXED_NOW};
  // The machine's time zone is UTC. QuickJS asks the host's C library (emscripten: the host's own Date) for the local
  // offset, so a cell's Date().toString(), getHours() or new Date(2024, 0, 1) read the host's time zone: the same
  // cell printed "GMT+0530" on one machine and "GMT-0500" on another. Every local-time method, the local-time
  // constructor and the parse of a string without a zone are the UTC ones here, printed as QuickJS prints them.
  const DP = OD.prototype, UTC = OD.UTC, parse = OD.parse, getTime = DP.getTime;
  const U = (n) => DP["getUTC" + n];
  const uY = U("FullYear"), uMo = U("Month"), uD = U("Date"), uDay = U("Day"), uH = U("Hours"), uMi = U("Minutes"), uS = U("Seconds");
  const DAYS = "SunMonTueWedThuFriSat", MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const pad = (n, w) => {
    let s = "" + (n < 0 ? -n : n);
    while (s.length < w) s = "0" + s;
    return n < 0 ? "-" + s : s;
  };
  // QuickJS's get_date_string with the offset 0: fmt 1 is toString's family, fmt 3 toLocaleString's
  const dateString = (d, fmt, part) => {
    const t = apply(getTime, d, []);
    if (t !== t) return "Invalid Date";
    const y = apply(uY, d, []), mo = apply(uMo, d, []), day = apply(uD, d, []), h = apply(uH, d, []);
    const mi = pad(apply(uMi, d, []), 2), sec = pad(apply(uS, d, []), 2);
    let out = "";
    if (part & 1) {
      const wd = apply(uDay, d, []);
      if (fmt === 1) out += DAYS.substr(wd * 3, 3) + " " + MONTHS.substr(mo * 3, 3) + " " + pad(day, 2) + " " + pad(y, 4) + (part === 3 ? " " : "");
      else out += pad(mo + 1, 2) + "/" + pad(day, 2) + "/" + pad(y, 4) + (part === 3 ? ", " : "");
    }
    if (part & 2) {
      if (fmt === 1) out += pad(h, 2) + ":" + mi + ":" + sec + " GMT+0000";
      else out += pad(((h + 11) % 12) + 1, 2) + ":" + mi + ":" + sec + (h < 12 ? " AM" : " PM");
    }
    return out;
  };
  const ISO_LOCAL = /^[+-]?\d{4,6}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?$/;
  const NAMES_ZONE = /(?:^|[^A-Za-z])(?:GMT|UTC|UT|Z|[ECMP][SD]T)(?![A-Za-z])|\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-]\d\d:?\d\d(?!\d)/i;
  const reTest = RegExp.prototype.test;
  // A string with no zone is the machine's local time, UTC: an ISO date-time is read with a Z after it, another
  // form with " Z" after it (QuickJS takes the last zone a string names). A string that names its zone is read as is.
  const parseUTC = (s) => {
    s = "" + s;
    if (apply(reTest, ISO_LOCAL, [s])) return parse(s + "Z");
    if (!apply(reTest, NAMES_ZONE, [s])) {
      const v = parse(s + " Z");
      if (v === v) return v;
    }
    return parse(s);
  };
  const D = function Date() {
    const args = [];
    for (let i = 0; i < arguments.length; i++) args[i] = arguments[i];
    if (new.target === undefined) return dateString(construct(OD, [FIXED_NOW]), 1, 3);
    if (args.length >= 2) return construct(OD, [apply(UTC, undefined, args)], new.target);
    if (args.length === 1 && typeof args[0] === "string") return construct(OD, [parseUTC(args[0])], new.target);
    return construct(OD, args.length ? args : [FIXED_NOW], new.target);
  };
  D.prototype = DP;
  const method = (name, length, f) => {
    defineProperty(f, "name", { value: name, configurable: true });
    defineProperty(f, "length", { value: length, configurable: true });
    defineProperty(DP, name, { value: f, writable: true, configurable: true, enumerable: false });
  };
  const local = ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"];
  for (let i = 0; i < local.length; i++) {
    const get = DP["getUTC" + local[i]], set = DP["setUTC" + local[i]];
    method("get" + local[i], 0, function () { return apply(get, this, []); });
    if (set) method("set" + local[i], set.length, function () { return apply(set, this, arguments); });
  }
  method("getTimezoneOffset", 0, function () { const t = apply(getTime, this, []); return t !== t ? t : 0; });
  if (DP.getYear) method("getYear", 0, function () { return apply(uY, this, []) - 1900; });
  if (DP.setYear) {
    const setY = DP.setUTCFullYear;
    method("setYear", 1, function (y) {
      y = +y;
      if (y === y && y >= 0 && y <= 99 && y === (y | 0)) y += 1900;
      return apply(setY, this, [y]);
    });
  }
  const strings = [["toString", 1, 3], ["toDateString", 1, 1], ["toTimeString", 1, 2], ["toLocaleString", 3, 3], ["toLocaleDateString", 3, 1], ["toLocaleTimeString", 3, 2]];
  for (let i = 0; i < strings.length; i++) {
    const s = strings[i];
    method(s[0], 0, function () { return dateString(this, s[1], s[2]); });
  }
  defineProperty(OD.prototype, "constructor", { value: D, writable: true, configurable: true, enumerable: false });
  defineProperty(D, "now", { value: function now() { return FIXED_NOW; }, writable: true, configurable: true });
  defineProperty(D, "UTC", { value: UTC, writable: true, configurable: true });
  defineProperty(D, "parse", { value: function parse(s) { return parseUTC(s); }, writable: true, configurable: true });
  defineProperty(globalThis, "Date", { value: D, writable: true, configurable: true, enumerable: false });
  const gopd = Object.getOwnPropertyDescriptor, hasOwn = Object.prototype.hasOwnProperty;
  const nameOf = (f) => {
    if (isProxy(f)) return "";
    const d = gopd(f, "name");
    return d !== undefined && apply(hasOwn, d, ["value"]) && typeof d.value === "string" ? d.value : "";
  };
  // the host's bigints (bindings.ts newBig): made with the BigInt captured here, whatever the cell did to the global
  const mkBig = (v) => (typeof v === "number" ? (v < 0 ? Big(v) + TWO64 : Big(v)) : Big(v));
  return { require, stack, handleFor, nameOf, isProxy, hungry, shadow: KS, mkBig, setTake };
})`;

export const PRELUDE = stripLineComments(PRELUDE_SOURCE);

/**
 * The prelude's takeStack (see "Rows whose calls need the guest's stack" above), made by the host the first time a row
 * needs it (bindings.ts setHungry): evaluated in the run's context, called by the prelude's setTake with the builtins
 * it captured. Bounded: 256 texts or 1 MiB of them; `held` counts the map's entries, since Map.prototype's size getter is
 * the cell's to replace (reading stackIds.size would hand it the map).
 */
export const TAKE_STACK = String.raw`(function (E, apply, mapGet, mapSet, mapClear, setStack, OMap) {
  "use strict";
  const stackIds = new OMap();
  let lastStack = 0, stackCount = 0, stackChars = 0, held = 0;
  const takeStack = () => {
    const s = new E().stack;
    let n = apply(mapGet, stackIds, [s]);
    if (n === undefined) {
      let reset = false;
      if (held >= 256 || stackChars > 1048576) { apply(mapClear, stackIds, []); stackChars = 0; held = 0; reset = true; }
      n = ++stackCount;
      apply(mapSet, stackIds, [s, n]);
      held++;
      stackChars += s.length;
      if (reset) setStack(n, s, true); else setStack(n, s);
      lastStack = n;
    } else if (n !== lastStack) {
      setStack(n);
      lastStack = n;
    }
  };
  return takeStack;
})`;
