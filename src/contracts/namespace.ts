import { InvalidConfigError } from "../errors.ts";

/** Where ZeroG's tables (PostgreSQL schema) or keys (Redis prefix) live unless the URL says otherwise. */
export const DEFAULT_NAMESPACE = "zerog";

/**
 * Schema names and key prefixes end up in SQL identifiers and key names: keep them plain.
 * PostgreSQL's is stricter (lowercase, ≤ 48) because it travels unquoted in `search_path`.
 */
const NAMESPACE_PATTERN = { schema: /^[a-z_][a-z0-9_]{0,47}$/, prefix: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/ } as const;

/** Takes ZeroG's own query parameter (`schema` / `prefix`) out of a driver URL. */
export function splitNamespace(url: string, param: "schema" | "prefix"): { driverUrl: string; namespace: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidConfigError(`backend URL '${url}' is not a valid URL`);
  }
  const namespace = parsed.searchParams.get(param) ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE_PATTERN[param].test(namespace)) {
    const rule = param === "schema" ? "1-48 lowercase letters, digits and '_'" : "1-63 letters, digits and '_'";
    throw new InvalidConfigError(`${param} '${namespace}' in '${url}' must be ${rule}, not starting with a digit`);
  }
  parsed.searchParams.delete(param);
  return { driverUrl: parsed.toString(), namespace };
}
