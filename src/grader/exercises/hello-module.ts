// Exercise hello-module: the smallest module — two lines at the right level at the right time, GPL, init returns 0.
// It allocates nothing, so it has no failure path to test by fault injection.

import type { Exercise } from "../types.ts";
import { loads, noReports, noTaint, nothingLeaked, printedLine } from "../checks.ts";

export const helloModule: Exercise = {
  id: "hello-module",
  title: "Hello, kernel",
  lesson: "first-module",
  settings: { profile: "x86_64-6.1" },
  statement: `Write a module that prints \`hello, kernel\` at KERN_INFO when it is loaded and \`goodbye, kernel\` at
KERN_INFO when it is unloaded. Its init function returns 0. Declare the GPL licence (\`MODULE_LICENSE("GPL")\`), so
that loading it does not taint the kernel.`,
  starter: `import { printk, KERN_INFO, module_init, module_exit } from "linux";

function hello_init(): number {
  // TODO: print "hello, kernel" at KERN_INFO
  return 0;
}

function hello_exit(): void {
  // TODO: print "goodbye, kernel" at KERN_INFO
}

module_init(hello_init);
module_exit(hello_exit);
`,
  solution: `import { printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");

function hello_init(): number {
  printk(KERN_INFO + "hello, kernel\\n");
  return 0;
}

function hello_exit(): void {
  printk(KERN_INFO + "goodbye, kernel\\n");
}

module_init(hello_init);
module_exit(hello_exit);
`,
  checks: [
    loads(),
    printedLine({ id: "hello-on-load", text: "hello, kernel", level: 6, phase: "init" }),
    printedLine({ id: "goodbye-on-unload", text: "goodbye, kernel", level: 6, phase: "exit" }),
    { ...noTaint(), requires: ["GPL"] },
    nothingLeaked(),
    noReports(),
  ],
};
