import { InvalidConfigError } from "../../errors.ts";

/** Beanstalkd's default port. */
export const DEFAULT_BEANSTALK_PORT = 11300;

export interface BeanstalkAddress {
  host: string;
  port: number;
}

/** `beanstalk://host[:port]` (port 11300 by default) → where to connect. */
export function parseBeanstalkUrl(url: string): BeanstalkAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidConfigError(`beanstalkd URL '${url}' is not a valid URL (e.g. beanstalk://127.0.0.1:11300)`);
  }
  if (parsed.protocol !== "beanstalk:") {
    throw new InvalidConfigError(
      `beanstalkd URL '${url}' must start with beanstalk:// (e.g. beanstalk://127.0.0.1:11300)`,
    );
  }
  if (parsed.hostname === "") throw new InvalidConfigError(`beanstalkd URL '${url}' names no host`);
  // IPv6 literals come back bracketed ("[::1]"); net.connect wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: parsed.port === "" ? DEFAULT_BEANSTALK_PORT : Number(parsed.port) };
}
