// The end-to-end suite: its own config so that `npm test` (unit tests) does not need a browser or a build.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    environment: "node",
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: "forks",
    fileParallelism: false,
  },
});
