// Loads every /proc renderer so that readProc() knows them all. Each file registers itself.
import "./iomem.ts";
import "./version.ts";
import "./meminfo.ts";
import "./buddyinfo.ts";
import "./pagetypeinfo.ts";
import "./zoneinfo.ts";
import "./vmallocinfo.ts";
import "./slabinfo.ts";
