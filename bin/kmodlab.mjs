#!/usr/bin/env node
// The command's entry before it became CommonJS (bin/kmodlab.cjs, package.json "bin"), kept for callers that name
// this path (`node bin/kmodlab.mjs ARGS`): it runs the same command, after Node has started its ES module loader
// for this file (~10-15 ms later than bin/kmodlab.cjs starts `kmodlab run`'s worker).
import "./kmodlab.cjs";
