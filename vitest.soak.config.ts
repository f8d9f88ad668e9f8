import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/** `npm run soak`: the long load tests under test/soak/, one at a time (they measure the machine). */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/soak/**/*.soak.ts"],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 900_000,
  },
});
