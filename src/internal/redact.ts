/**
 * A URL fit for a log line or an error message: the password before the host and the value of a
 * `password=` parameter (couchbase:// URLs take one) become `***`. Works on URLs that `new URL`
 * refuses too (a Couchbase host list with ports), since the parameter is masked as text.
 */
export function redactUrl(url: string): string {
  const masked = url.replace(/([?&]password=)[^&#]*/gi, "$1***");
  try {
    const u = new URL(masked);
    if (u.password === "") return masked;
    u.password = "***";
    return u.toString();
  } catch {
    return masked;
  }
}
