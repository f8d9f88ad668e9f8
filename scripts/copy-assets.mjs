// tsc copies no SQL, SQL++ or Lua: copy src/**/*.sql, *.n1ql and *.lua beside the compiled modules that read them.
import { cpSync } from "node:fs";

cpSync("src", "dist", {
  recursive: true,
  filter: (src) => !/\.[a-z]+$/i.test(src) || /\.(sql|n1ql|lua)$/i.test(src),
});
