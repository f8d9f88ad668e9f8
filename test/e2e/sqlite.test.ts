import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { describeEndToEnd } from "./e2e.suite.ts";

describeEndToEnd({
  name: "sqlite (one file for both)",
  urls: () => {
    const url = `sqlite:${tempDbPath()}`;
    return { datastore: url, queue: url };
  },
});
