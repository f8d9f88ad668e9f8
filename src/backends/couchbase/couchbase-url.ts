import { InvalidConfigError } from "../../errors.ts";
import { redactUrl } from "../../internal/redact.ts";

/** How many copies a write must reach before Couchbase acknowledges it (the SDK's DurabilityLevel). */
export type CouchbaseDurability = "none" | "majority" | "majorityAndPersistActive" | "persistToMajority";

const DURABILITIES: readonly CouchbaseDurability[] = [
  "none",
  "majority",
  "majorityAndPersistActive",
  "persistToMajority",
];

/** A parsed `couchbase://` datastore URL. */
export interface CouchbaseUrl {
  scheme: "couchbase";
  /** The SDK's connection string: `couchbase[s]://hosts`, plus any parameter ZeroG does not know. */
  connStr: string;
  bucket: string;
  /** @defaultValue "_default" */
  scope: string;
  /** @defaultValue "_default" */
  collection: string;
  username: string;
  /** From `password=`; null when the URL has none (then ZEROG_COUCHBASE_PASSWORD is used). */
  password: string | null;
  /** @defaultValue "none" */
  durability: CouchbaseDurability;
  /** Create the list indexes (indexes.n1ql) on open. @defaultValue true */
  createIndexes: boolean;
}

/** ZeroG's own parameters; every other one goes to the SDK's connection string unchanged. */
const OWN_PARAMS = ["username", "password", "scope", "collection", "durability", "createIndexes"] as const;

/**
 * Couchbase's naming rules (bucket: letters, digits, `_ - . %`, ≤ 100; scope and collection:
 * letters, digits, `_ - %`, ≤ 251, not starting with `_` or `%` except `_default`). None may hold
 * a backtick, so quoting them in backticks in a statement is safe.
 */
const BUCKET_NAME = /^[A-Za-z0-9_.%-]{1,100}$/;
const KEYSPACE_NAME = /^(?:_default|[A-Za-z0-9-][A-Za-z0-9_%-]{0,250})$/;

/** `couchbase[s]://host[,host…][:port]` then `/bucket`, then the query string. */
const SHAPE = /^(couchbases?):\/\/([^/?#]+)\/([^/?#]*)(?:\?([^#]*))?$/i;

/**
 * `couchbase://host[,host2]/bucket?username=u[&scope=s][&collection=c][&durability=majority][&createIndexes=false]`
 * (`couchbases://` for TLS). The password comes from `password=` or, better, ZEROG_COUCHBASE_PASSWORD.
 */
export function parseCouchbaseUrl(url: string): CouchbaseUrl {
  const m = SHAPE.exec(url);
  const [, scheme, hosts, bucket, query] = m ?? [];
  if (scheme === undefined || hosts === undefined || bucket === undefined)
    throw new InvalidConfigError(
      `couchbase URL '${redactUrl(url)}' must look like couchbase://host/bucket?username=name`,
    );
  if (hosts.includes("@"))
    throw new InvalidConfigError(
      `couchbase URL '${redactUrl(url)}': put the user in ?username= and the password in ZEROG_COUCHBASE_PASSWORD, not before the host`,
    );
  if (!BUCKET_NAME.test(bucket))
    throw new InvalidConfigError(`couchbase URL '${redactUrl(url)}' needs a bucket name after the host (e.g. /zerog)`);
  const params = new URLSearchParams(query ?? "");
  const username = params.get("username");
  if (username === null || username === "")
    throw new InvalidConfigError(`couchbase URL '${redactUrl(url)}' needs ?username=`);
  const scope = params.get("scope") ?? "_default";
  const collection = params.get("collection") ?? "_default";
  for (const [what, name] of [
    ["scope", scope],
    ["collection", collection],
  ] as const) {
    if (!KEYSPACE_NAME.test(name))
      throw new InvalidConfigError(
        `${what} '${name}' in a couchbase URL must be 1-251 letters, digits, '_', '-' or '%', not starting with '_' or '%' (or be _default)`,
      );
  }
  const durability = params.get("durability") ?? "none";
  if (!isDurability(durability))
    throw new InvalidConfigError(
      `durability '${durability}' in a couchbase URL must be one of ${DURABILITIES.join(", ")}`,
    );
  const createIndexes = params.get("createIndexes") ?? "true";
  if (createIndexes !== "true" && createIndexes !== "false")
    throw new InvalidConfigError(`createIndexes in a couchbase URL must be true or false, not '${createIndexes}'`);
  const password = params.get("password");
  for (const p of OWN_PARAMS) params.delete(p);
  const rest = params.toString();
  return {
    scheme: "couchbase",
    connStr: `${scheme.toLowerCase()}://${hosts}${rest === "" ? "" : `?${rest}`}`,
    bucket,
    scope,
    collection,
    username,
    password,
    durability,
    createIndexes: createIndexes === "true",
  };
}

function isDurability(s: string): s is CouchbaseDurability {
  return (DURABILITIES as readonly string[]).includes(s);
}

/** The collection as SQL++ names it: each part in backticks (the name rules above exclude backticks). */
export function keyspaceOf(url: Pick<CouchbaseUrl, "bucket" | "scope" | "collection">): string {
  return `\`${url.bucket}\`.\`${url.scope}\`.\`${url.collection}\``;
}
