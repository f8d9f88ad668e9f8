import { InvalidConfigError } from "../errors.ts";

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const DURATION = /^(\d+(?:\.\d+)?)([smhd]?)$/;

/**
 * A flag's duration in seconds: a number of seconds (`90`), or one with a unit (`90s`, `15m`,
 * `12h`, `7d`). `0` and, with `offMeansZero`, `off` give 0. InvalidConfigError naming the flag otherwise.
 */
export function durationFlag(flag: string, value: string, opts: { offMeansZero?: boolean } = {}): number {
  const v = value.trim().toLowerCase();
  if (opts.offMeansZero && v === "off") return 0;
  const m = DURATION.exec(v);
  if (!m) {
    const off = opts.offMeansZero ? ", or off" : "";
    throw new InvalidConfigError(
      `--${flag} must be seconds or a number with s, m, h or d (90, 15m, 7d)${off}, got '${value}'`,
    );
  }
  return Number(m[1]) * UNIT_SECONDS[(m[2] || "s") as keyof typeof UNIT_SECONDS];
}
