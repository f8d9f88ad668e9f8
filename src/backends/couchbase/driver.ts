import type { BackendDriver } from "../../contracts/driver.ts";
import { type CouchbaseUrl, parseCouchbaseUrl } from "./couchbase-url.ts";

/** A Couchbase collection, as the datastore only (with its fleet); it pairs with any queue. */
export const couchbaseDriver: BackendDriver<CouchbaseUrl> = {
  name: "couchbase",
  schemes: ["couchbase:", "couchbases:"],
  example: "couchbase://host/bucket?username=name",
  provides: { datastore: true, queue: false, fleet: true },
  capabilities: { oneTransaction: false, multiProcess: true, listing: "indexed" },
  parseUrl: parseCouchbaseUrl,
  openDatastore: async (config) => {
    // Loads the couchbase package, an optional dependency, only for a couchbase:// URL.
    const { openCouchbase } = await import("./open-couchbase.ts");
    const { datastore, fleet } = await openCouchbase({ url: config });
    return { datastore, fleet, close: () => datastore.close() };
  },
  misuseMessage: () =>
    "a couchbase:// URL is a datastore only (Couchbase holds the documents, not a queue); use it as the datastore URL, with a sqlite:, postgres://, redis:// or beanstalk:// queue",
};
