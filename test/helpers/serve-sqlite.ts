import { afterAll, beforeAll } from "vitest";
import { type RunningCli, startServe } from "./cli.ts";
import { tempDbPath } from "./sqlite-temp.ts";

/**
 * The hooks of a CLI test file: one `zerog serve` of `jobModules` on a fresh SQLite file (datastore
 * and queue) for the whole file, SIGKILLed after it. `extra` are more `serve` flags.
 */
export function useServeOnSqlite(jobModules: string[], extra: string[] = []): { readonly server: RunningCli } {
  let server: RunningCli | undefined;
  beforeAll(async () => {
    const db = `sqlite:${tempDbPath()}`;
    server = await startServe(["--jobs", ...jobModules, "--datastore", db, "--queue", db, ...extra]);
  });
  afterAll(async () => {
    server?.proc.kill("SIGKILL");
    await server?.exited;
  });
  return {
    get server() {
      if (!server) throw new Error("zerog serve has not started");
      return server;
    },
  };
}
