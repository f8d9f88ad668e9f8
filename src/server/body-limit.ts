import type { FastifyReply, FastifyRequest } from "fastify";
import type { ErrorBody } from "./http-errors.ts";

/**
 * How much of an oversized body is read (and thrown away) after the 413, so that the client can
 * finish sending and then read the answer: the larger of these two, within `discardMs`. Past
 * either bound the connection is dropped: a client still sending by then is not one that will
 * stop, and reading on would let it hold a connection (and bandwidth) for as long as it likes.
 */
export const BODY_DISCARD = {
  /** At least this many bytes: 16 MiB take a few milliseconds on a LAN. */
  minBytes: 16 * 1024 * 1024,
  /** Or this many times `bodyLimitBytes`, when that is more. */
  limitFactor: 4,
  /** Within this long after the 413: enough for a well-behaved client, too short to trickle. */
  discardMs: 5000,
} as const;

/** The most bytes of an oversized body read and discarded after the 413, for a given body limit. */
export function discardBytesFor(bodyLimitBytes: number): number {
  return Math.max(BODY_DISCARD.minBytes, BODY_DISCARD.limitFactor * bodyLimitBytes);
}

/**
 * Answers 413 to a request whose body is over the limit while the client is still sending it.
 *
 * Fastify refuses such a body as soon as it knows (at once from Content-Length, or once a chunked
 * body passes the limit) and would close the connection right after answering. Closing a socket
 * that still has unread bytes makes the kernel reset the connection, and a client that sends the
 * whole body before reading (most do) then sees EPIPE or ECONNRESET instead of the answer. So the
 * 413 is written at once, with its length and `Connection: close`, but the response only ends once
 * the rest of the body has been read and discarded, up to `maxDiscardBytes` or `BODY_DISCARD.discardMs`.
 */
export function refuseOversizedBody(
  req: FastifyRequest,
  reply: FastifyReply,
  body: ErrorBody,
  maxDiscardBytes: number,
): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v; // CORS
  reply.hijack();
  const res = reply.raw;
  const incoming = req.raw;
  res.writeHead(413, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    connection: "close",
  });
  res.write(text);

  let discarded = 0;
  const finish = (): void => {
    clearTimeout(timer);
    incoming.off("data", onData);
    incoming.off("end", finish);
    incoming.off("close", finish);
    if (!res.writableEnded) res.end(); // Connection: close, so Node closes the socket once it is sent
  };
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded <= maxDiscardBytes) return;
    finish();
    incoming.socket.destroy();
  };
  const timer = setTimeout(() => {
    finish();
    incoming.socket.destroy();
  }, BODY_DISCARD.discardMs);
  incoming.on("data", onData);
  incoming.once("end", finish);
  incoming.once("close", finish); // the client went away
  incoming.resume();
}
