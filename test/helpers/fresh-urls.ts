import { afterEach } from "vitest";
import { type NamespacedUrl, namespacedUrl, type ServiceName } from "./services.ts";

/**
 * Fresh namespaced URLs on `base` (a PostgreSQL schema or a Redis key prefix each), for a test
 * file whose tests each want empty stores. Call it while the file is collected: what a test used
 * is dropped after it, unless it failed (kept, and printed, to inspect).
 */
export function freshUrls(kind: ServiceName, base: string | null): () => string {
  const used: NamespacedUrl[] = [];
  afterEach(async (ctx) => {
    const now = used.splice(0);
    if (ctx.task.result?.state === "fail") {
      console.warn(`kept ${kind} namespaces of a failed test: ${now.map((n) => n.namespace).join(", ")}`);
      return;
    }
    await Promise.all(now.map((n) => n.drop()));
  });
  return () => {
    if (base === null) throw new Error(`${kind} is not reachable`);
    const n = namespacedUrl(kind, base);
    used.push(n);
    return n.url;
  };
}
