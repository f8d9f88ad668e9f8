/**
 * How deep a JSON value nests (a scalar is 0, `{}` or `[]` 1, `{"a": []}` 2). Iterative, so a
 * hostile body cannot overflow the stack of whatever walks it later (validation, storage).
 */
export function jsonDepth(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > stopAt) return max;
    for (const child of Object.values(v)) stack.push([child, depth]);
  }
  return max;
}
