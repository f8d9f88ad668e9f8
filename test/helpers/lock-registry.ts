import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One entry of package-lock.json's "packages" (lockfile v2/v3). */
interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  inBundle?: boolean;
  [field: string]: unknown;
}

/** The manifest fields npm reads from a packument to resolve, place and skip packages. */
const MANIFEST_FIELDS = [
  "dependencies",
  "optionalDependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "bin",
  "engines",
  "os",
  "cpu",
  "hasInstallScript",
] as const;

export interface LockRegistry {
  /** With a trailing slash, as npm's `--registry` wants it. */
  url: string;
  /** Paths asked for that this registry does not have (e.g. a tarball npm did not find in its cache). */
  misses: string[];
  close(): Promise<void>;
}

/**
 * A read-only npm registry on 127.0.0.1 that serves packuments built from a package-lock.json:
 * every version the lock pins, per name. npm ci leaves the tarballs in npm's cache but not the
 * packuments, so with this registry and `--prefer-offline` npm installs those exact versions
 * without the network. Tarballs point at the public registry's usual URLs, which are the keys
 * npm's cache holds them under; a tarball request reaching this server is a cache miss (404).
 */
export async function startLockRegistry(lockPath: string): Promise<LockRegistry> {
  const packuments = packumentsOf(
    JSON.parse(readFileSync(lockPath, "utf8")) as { packages: Record<string, LockEntry> },
  );
  const misses: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1).split("?")[0] ?? "");
    const doc = packuments.get(name);
    if (req.method !== "GET" || !doc) {
      misses.push(`${req.method} ${req.url}`);
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    misses,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type Packument = { name: string; "dist-tags": { latest: string }; versions: Record<string, Record<string, unknown>> };

function packumentsOf(lock: { packages: Record<string, LockEntry> }): Map<string, Packument> {
  const out = new Map<string, Packument>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf("node_modules/");
    if (at < 0 || entry.link || entry.inBundle || !entry.version || !entry.integrity) continue;
    const name = path.slice(at + "node_modules/".length);
    const manifest: Record<string, unknown> = { name, version: entry.version };
    for (const f of MANIFEST_FIELDS) if (entry[f] !== undefined) manifest[f] = entry[f];
    manifest.dist = { tarball: entry.resolved ?? publicTarballUrl(name, entry.version), integrity: entry.integrity };
    const doc = out.get(name) ?? { name, "dist-tags": { latest: entry.version }, versions: {} };
    doc.versions[entry.version] = manifest;
    if (compareVersions(entry.version, doc["dist-tags"].latest) > 0) doc["dist-tags"].latest = entry.version;
    out.set(name, doc);
  }
  return out;
}

/** Where registry.npmjs.org serves a tarball; a lock written with omit-lockfile-registry-resolved has no `resolved`. */
function publicTarballUrl(name: string, version: string): string {
  return `https://registry.npmjs.org/${name}/-/${name.split("/").pop()}-${version}.tgz`;
}

/** Enough of semver's order for "latest": numeric major.minor.patch, a prerelease below its release. */
function compareVersions(a: string, b: string): number {
  const [ma, pa] = a.split("-", 2);
  const [mb, pb] = b.split("-", 2);
  const na = (ma ?? "").split(".").map(Number);
  const nb = (mb ?? "").split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa === pb) return 0;
  if (pa === undefined) return 1;
  if (pb === undefined) return -1;
  return pa < pb ? -1 : 1;
}
