import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Command, CommanderError } from "commander";
import { isZeroGError } from "../errors.ts";
import { registerFleet } from "./fleet.ts";
import { addFollowOption } from "./follow.ts";
import { registerInit } from "./init.ts";
import { registerJobCommands } from "./jobs.ts";
import { registerJobTypes } from "./jobtypes.ts";
import { registerPause } from "./pause.ts";
import { registerRetry } from "./retry.ts";
import { registerServe } from "./serve.ts";
import { registerSubmit } from "./submit.ts";

/** The package's version, read when the CLI starts: package.json is two levels up from src/cli/ and dist/cli/ alike. */
function packageVersion(): string {
  return (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
}

/** Builds the `zerog` command line. */
export function buildProgram(): Command {
  const program = new Command("zerog")
    .description("ZeroG: background jobs with a REST API")
    .version(packageVersion(), "-V, --version", "print the version of ZeroG")
    .exitOverride();
  registerInit(program);
  registerServe(program);
  registerFleet(program);
  addFollowOption(registerSubmit(program));
  registerJobCommands(program);
  registerRetry(program);
  registerJobTypes(program);
  registerPause(program);
  return program;
}

/** Runs the CLI; errors a user can act on print one line, not a stack trace. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (isZeroGError(err)) {
      console.error(`zerog: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

// Run when executed directly (npm start / tsx), not when imported by bin/zerog.js.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv);
