import { hostname } from "node:os";

/** A worker's id: host, service name and pid, so an operator can find the process. */
export function makeWorkerId(serviceName: string, host = hostname(), pid = process.pid): string {
  return `${host}:${serviceName}:${pid}`;
}
