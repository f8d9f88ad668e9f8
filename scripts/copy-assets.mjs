// tsc copies no SQL, SQL++, Lua or dashboard assets: copy src/**/*.sql, *.n1ql, *.lua and the
// dashboard's .html, .css and .js files (src/ui/) beside the compiled modules that read them.
import { cpSync } from "node:fs";

cpSync("src", "dist", {
  recursive: true,
  filter: (src) =>
    !/\.[a-z]+$/i.test(src) || /\.(sql|n1ql|lua)$/i.test(src) || /[\\/]ui[\\/].*\.(html|css|js|svg)$/i.test(src),
});
