/** One reply from the server: its first line, split on spaces, and the body some replies carry. */
export interface Reply {
  /** The first line without its `\r\n`, e.g. `RESERVED 7 5`. */
  readonly line: string;
  readonly words: readonly string[];
  /** Exactly the `<bytes>` announced by `RESERVED`, `FOUND` and `OK` replies; undefined for the others. */
  readonly body: Buffer | undefined;
}

/** The stream from the server broke the protocol: the connection cannot be trusted any more. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * The longest reply line the server sends is `RESERVED <id> <bytes>` with two 20-digit numbers,
 * or `USING <200-byte tube>`; a line past this many bytes with no `\r\n` is not beanstalkd.
 */
const MAX_LINE_BYTES = 512;

/** Replies followed by a body, and which word of their line is its byte count. */
const BODY_LENGTH_WORD: Readonly<Record<string, number>> = { RESERVED: 2, FOUND: 2, OK: 1 };

const CRLF = Buffer.from("\r\n");
const EMPTY = Buffer.alloc(0);

/**
 * Cuts the server's byte stream into replies. A body is framed by its byte count, never by
 * searching for `\r\n`, so bodies may hold `\r\n` and any other bytes. Chunks may split a reply
 * anywhere; a body arriving in many chunks is joined once, when complete.
 */
export class ReplyReader {
  /** Bytes after the last complete reply (reading a line). */
  #rest: Buffer = EMPTY;
  /** While reading a body: the reply it belongs to and the bytes still to come with its `\r\n`. */
  #pending: { line: string; words: string[]; need: number } | undefined;
  #chunks: Buffer[] = [];
  #have = 0;

  /** Feeds one chunk; returns the replies it completed, in order. Throws ProtocolError on a malformed stream. */
  push(chunk: Buffer): Reply[] {
    let buf: Buffer;
    if (this.#pending) {
      this.#chunks.push(chunk);
      this.#have += chunk.length;
      if (this.#have < this.#pending.need) return [];
      buf = Buffer.concat(this.#chunks, this.#have);
      this.#chunks = [];
      this.#have = 0;
    } else {
      buf = this.#rest.length === 0 ? chunk : Buffer.concat([this.#rest, chunk]);
    }
    const out: Reply[] = [];
    let pos = 0;
    for (;;) {
      const pending = this.#pending;
      if (pending) {
        if (buf.length - pos < pending.need) break;
        const end = pos + pending.need - 2;
        if (buf[end] !== 13 || buf[end + 1] !== 10)
          throw new ProtocolError(`body of '${pending.line}' is not followed by \\r\\n`);
        // A copy, so a small body does not keep a whole socket chunk alive.
        out.push({ line: pending.line, words: pending.words, body: Buffer.from(buf.subarray(pos, end)) });
        pos = end + 2;
        this.#pending = undefined;
        continue;
      }
      const eol = buf.indexOf(CRLF, pos);
      if (eol < 0) {
        if (buf.length - pos > MAX_LINE_BYTES)
          throw new ProtocolError(`reply line longer than ${MAX_LINE_BYTES} bytes`);
        break;
      }
      const line = buf.toString("latin1", pos, eol);
      pos = eol + 2;
      const words = line.split(" ");
      const need = bodyLength(line, words);
      if (need === undefined) out.push({ line, words, body: undefined });
      else this.#pending = { line, words, need: need + 2 };
    }
    if (this.#pending) {
      this.#rest = EMPTY;
      if (pos < buf.length) {
        this.#chunks = [buf.subarray(pos)];
        this.#have = buf.length - pos;
      }
    } else {
      this.#rest = pos < buf.length ? Buffer.from(buf.subarray(pos)) : EMPTY;
    }
    return out;
  }

  /** Forgets any partial reply (the connection it came from is gone). */
  reset(): void {
    this.#rest = EMPTY;
    this.#pending = undefined;
    this.#chunks = [];
    this.#have = 0;
  }
}

/** The body length a reply line announces, or undefined when the reply has no body. */
function bodyLength(line: string, words: readonly string[]): number | undefined {
  const at = BODY_LENGTH_WORD[words[0] ?? ""];
  if (at === undefined) return undefined;
  const text = words[at];
  if (words.length !== at + 1 || text === undefined || !/^\d{1,10}$/.test(text)) {
    throw new ProtocolError(`malformed reply '${line}'`);
  }
  return Number(text);
}
