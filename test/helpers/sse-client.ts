import { readSse, type SseEvent } from "../../src/cli/sse-reader.ts";

/** An open `GET /events/{uuid}` as a real HTTP client sees it. */
export interface SseStream {
  status: number;
  headers: Headers;
  /** Every event received so far (data parsed as JSON). */
  events: { event: string; id: string | undefined; data: Record<string, unknown> }[];
  /** Resolves when the server ends the stream. */
  closed: Promise<void>;
  /** Drops the connection, as a client that goes away does. */
  abort(): void;
}

/** Opens an SSE stream with fetch; a non-200 answer comes back with its JSON body as `error`. */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseStream & { error?: Record<string, unknown> }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: ac.signal });
  const events: SseStream["events"] = [];
  if (res.status !== 200) {
    return {
      status: res.status,
      headers: res.headers,
      events,
      closed: Promise.resolve(),
      abort: () => ac.abort(),
      error: (await res.json()) as Record<string, unknown>,
    };
  }
  const body = res.body;
  if (!body) throw new Error("an SSE answer without a body");
  const closed = (async () => {
    try {
      for await (const ev of readSse(body)) events.push(parsed(ev));
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  return { status: res.status, headers: res.headers, events, closed, abort: () => ac.abort() };
}

function parsed(ev: SseEvent): SseStream["events"][number] {
  return { event: ev.event, id: ev.id, data: JSON.parse(ev.data) as Record<string, unknown> };
}
