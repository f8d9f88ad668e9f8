import { connect, type Socket } from "node:net";

/** One HTTP/1.1 answer as read off a socket. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
  /** The socket error seen while sending or reading (EPIPE, ECONNRESET…), if any. */
  socketError: string | null;
}

/**
 * Sends `head` (a request line and headers, without the blank line) over a new TCP connection,
 * exactly as written: for request shapes that fetch() would normalise (absolute-form targets,
 * fragments, raw %-escapes). Then `write` sends the body, if any. Resolves when the server closes
 * the connection (`Connection: close` is added), with whatever was answered.
 */
export function rawRequest(
  port: number,
  head: string,
  write: (socket: Socket) => void = () => undefined,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let socketError: string | null = null;
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      socketError ??= err.code ?? err.message;
    });
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (end < 0 || !status) {
        reject(new Error(`no HTTP answer to '${head.split("\r\n")[0]}' (socket error: ${socketError ?? "none"})`));
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, end).split("\r\n").slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(status[1]), headers, body: text.slice(end + 4), socketError });
    });
    socket.once("connect", () => {
      socket.write(`${head}\r\nConnection: close\r\n\r\n`);
      write(socket);
    });
  });
}
