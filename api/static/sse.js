// Server-Sent Events read with fetch(), so that the request can carry the bearer header
// (EventSource cannot). Frames are parsed as the HTML standard describes: `id:`,
// `event:`, `data:` lines, comments starting with ":", a blank line ends a frame.

/** Parse one frame's text; null for a frame with no data (comments, keep-alives). */
export function parseFrame(text) {
  let id = null;
  let event = "message";
  const data = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  return { id, event, data: data.join("\n") };
}

/**
 * Follow an SSE endpoint until `signal` aborts: reconnects after a drop, resuming with
 * Last-Event-ID. `open()` answers a fetch Response given the extra headers to send.
 */
export async function follow({ open, onFrame, onState, signal, retryMs = 2000 }) {
  let lastId = null;
  while (!signal.aborted) {
    try {
      const headers = { Accept: "text/event-stream" };
      if (lastId !== null) headers["Last-Event-ID"] = lastId;
      const response = await open(headers);
      if (!response.ok) {
        onState("refused", response.status);
        if ([401, 403].includes(response.status)) return;
      } else {
        onState("open");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer = (buffer + value).replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = parseFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (frame) {
              if (frame.id !== null) lastId = frame.id;
              onFrame(frame);
            }
          }
        }
      }
    } catch (error) {
      if (signal.aborted || error.name === "AbortError") return;
    }
    onState("closed");
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}
