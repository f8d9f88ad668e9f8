// tsc copies no SQL or Lua: copy src/**/*.sql and *.lua beside the compiled modules that read them.
import { cpSync } from "node:fs";

cpSync("src", "dist", {
  recursive: true,
  filter: (src) => !/\.[a-z]+$/i.test(src) || /\.(sql|lua)$/i.test(src),
});
