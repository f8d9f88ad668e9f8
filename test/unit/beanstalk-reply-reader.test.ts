import { describe, expect, it } from "vitest";
import { ProtocolError, type Reply, ReplyReader } from "../../src/backends/beanstalkd/reply-reader.ts";

/** A server byte stream with bodies that hold \r\n and words that look like replies. */
const body = Buffer.concat([Buffer.from("x\r\nRESERVED 9 9\r\n"), Buffer.from([0, 255, 13, 10, 13])]);
const stream = Buffer.concat([
  Buffer.from("INSERTED 1\r\n"),
  Buffer.from(`RESERVED 1 ${body.length}\r\n`),
  body,
  Buffer.from("\r\nOK 0\r\n\r\nTIMED_OUT\r\nFOUND 2 2\r\n\r\n\r\n"),
]);

const summary = (replies: Reply[]) => replies.map((r) => [r.line, r.body?.toString("hex")]);

const EXPECTED = [
  ["INSERTED 1", undefined],
  [`RESERVED 1 ${body.length}`, body.toString("hex")],
  ["OK 0", ""],
  ["TIMED_OUT", undefined],
  ["FOUND 2 2", "0d0a"],
];

describe("beanstalkd reply reader", () => {
  it("frames bodies by byte count, whole stream at once", () => {
    expect(summary(new ReplyReader().push(stream))).toEqual(EXPECTED);
  });

  it("frames the same replies fed one byte at a time", () => {
    const reader = new ReplyReader();
    const replies: Reply[] = [];
    for (let i = 0; i < stream.length; i++) replies.push(...reader.push(stream.subarray(i, i + 1)));
    expect(summary(replies)).toEqual(EXPECTED);
  });

  it("frames the same replies split at every possible point", () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const reader = new ReplyReader();
      const replies = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(summary(replies)).toEqual(EXPECTED);
    }
  });

  it("refuses a body not followed by \\r\\n, a malformed count and an endless line", () => {
    expect(() => new ReplyReader().push(Buffer.from("RESERVED 1 2\r\nabcd\r\n"))).toThrow(ProtocolError);
    expect(() => new ReplyReader().push(Buffer.from("OK -1\r\n"))).toThrow(ProtocolError);
    expect(() => new ReplyReader().push(Buffer.alloc(600, 65))).toThrow(ProtocolError);
  });
});
