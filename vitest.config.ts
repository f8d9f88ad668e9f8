import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Tests import "zerog" as users do, but from source (package.json's "zerog-source" condition does the same for tsx).
  resolve: {
    alias: [
      { find: /^zerog$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
      { find: /^zerog\/job$/, replacement: fileURLToPath(new URL("./src/job-api.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { ZEROG_LOG_LEVEL: process.env.ZEROG_LOG_LEVEL ?? "silent" },
    // Two cores: more forks only add contention to the SQLite and e2e tests.
    maxWorkers: 2,
  },
});
