// Prints vitest's JSON results as one plain line: "N passed, N failed, N skipped".
// Fails when the file is missing or no test ran, so an empty run can never look green.
import { readFileSync } from "node:fs";

const file = process.argv[2];
let r;
try {
  r = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.log(`0 passed, 1 failed (no test results at ${file}: ${err.message})`);
  process.exit(1);
}
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
process.exit(r.numFailedTests === 0 && r.numPassedTests > 0 && r.success !== false ? 0 : 1);
