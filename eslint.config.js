// ESLint (flat config): the recommended rules of ESLint and typescript-eslint, minus those that fight a deliberate
// pattern of this code base (each one says why). Formatting is Prettier's (.prettierrc.json), not ESLint's.
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  // test/grader/variants: submissions as learners write them (unused imports, loose types), graded, not linted.
  globalIgnores([
    "dist/",
    "lib/",
    "types/",
    "coverage/",
    "test-results/",
    "test/fixtures/",
    "test/**/fixtures/",
    "test/grader/variants/",
    "node_modules/",
    "lib.old-*/",
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      // the CLI, tests and benches run in Node; the notebook and its worker in the browser
      globals: { ...globals.node, ...globals.browser, ...globals.worker },
    },
    rules: {
      // Tests and formats match kernel output byte for byte; a run of spaces in a regex is the printed column
      // layout ("       \.bss :"), clearer as written than as / {7}/.
      "no-regex-spaces": "off",
      // printk's level marker is KERN_SOH, "\x01": regexes that parse printk text match it on purpose.
      "no-control-regex": "off",
      // An unused parameter or binding is named with a leading underscore when a signature or a destructuring needs
      // it (a kernel function's argument the model does not use; { wallMs: _wallMs, ...rest } to drop a field).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },
  // The kernel, the sandbox and the notebook also run in the browser (the notebook's worker): Node's globals there
  // pass typecheck and every Node test, and break only the page (a Buffer in a boot path stopped every cell).
  {
    files: ["src/kernel/**/*.ts", "sandbox/**/*.ts", "src/notebook/**/*.ts", "src/grader/**/*.ts"],
    ignores: ["src/notebook/sw-plugin.ts"], // a Vite plugin: runs in Node at build time
    rules: {
      "no-restricted-globals": [
        "error",
        ...["Buffer", "process", "require", "__dirname", "__filename", "global", "setImmediate"].map((name) => ({
          name,
          message: "Node-only: this code runs in the browser too",
        })),
      ],
    },
  },
  // bin/kmodlab.cjs is CommonJS on purpose (it starts `kmodlab run`'s worker before Node starts its ES module
  // loader), so it loads with require().
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs" }, rules: { "@typescript-eslint/no-require-imports": "off" } },
);
