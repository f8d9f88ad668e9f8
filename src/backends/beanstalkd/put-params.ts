import { PUT_DEFAULTS, type PutOptions } from "../../contracts/queue.ts";
import { InvalidConfigError } from "../../errors.ts";
import { checkUint, MAX_UINT32, type PutParams } from "./commands.ts";
import { tubeNameProblem } from "./tube-name.ts";

/**
 * Seconds as Beanstalkd counts them: whole, rounded up so a delay never ends early and a TTR
 * is never shorter than asked (1.2 s → 2 s); 0 for a non-positive or non-number value.
 */
export function wholeSeconds(seconds: number): number {
  if (!(seconds > 0)) return 0;
  return Math.min(Math.ceil(seconds), MAX_UINT32);
}

/** A priority Beanstalkd takes: a whole number from 0 (most urgent) to 2^32 − 1. */
export function checkPriority(priority: number): number {
  try {
    checkUint("priority", priority);
  } catch (err) {
    throw new InvalidConfigError(`Beanstalkd queue: ${err instanceof Error ? err.message : String(err)}`);
  }
  return priority;
}

/**
 * Put options as the protocol takes them. Delays and TTRs round up to whole seconds; a TTR is
 * at least 1 s (the server raises 0 to 1 itself, and its last second is a safety margin).
 */
export function beanstalkPutParams(opts: PutOptions = {}): PutParams {
  const o = { ...PUT_DEFAULTS, ...opts };
  return {
    priority: checkPriority(o.priority),
    delaySeconds: wholeSeconds(o.delaySeconds),
    ttrSeconds: Math.max(1, wholeSeconds(o.ttrSeconds)),
  };
}

/** A queue name is its tube's name: refused (InvalidConfigError) when Beanstalkd would refuse the tube. */
export function checkQueueName(queue: string): string {
  const problem = tubeNameProblem(queue);
  if (problem !== null) {
    throw new InvalidConfigError(
      `queue name '${queue}' cannot be a Beanstalkd tube: ${problem} (at most 200 bytes of letters, digits and - + / ; . $ _ ( ), not starting with '-')`,
    );
  }
  return queue;
}
