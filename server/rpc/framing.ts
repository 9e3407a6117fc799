/**
 * Reads LSP base-protocol frames (`Content-Length: N\r\n\r\n<N bytes of JSON>`) from a stream and
 * survives whatever a misbehaving client writes. vscode-jsonrpc's own reader only logs a bad frame
 * and can lose its place in the stream for good (garbage without a blank line swallows the next
 * real message); here every fault is reported (so the server can answer with a JSON-RPC error)
 * and the reader resynchronises on the next `Content-Length:` header.
 */
import { AbstractMessageReader, Disposable, ErrorCodes, Message, type DataCallback, type MessageReader } from 'vscode-languageserver/node';

/** Something that could not be delivered as a message; the server answers it with a JSON-RPC error. */
export interface FrameFault {
  /** `ErrorCodes.ParseError` (bad framing or JSON) or `ErrorCodes.InvalidRequest` (JSON but not JSON-RPC). */
  code: number;
  message: string;
  /** The request id when the bad message carried one, else null (JSON-RPC's rule for parse errors). */
  id: string | number | null;
}

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');
const CONTENT_LENGTH = /content-length:/i;
/** No real header block is this long; more bytes without a blank line are garbage. */
const MAX_HEADER_BYTES = 8 * 1024;
/** Larger bodies are refused rather than buffered (a run history with histograms stays far below). */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

export class RecoveringMessageReader extends AbstractMessageReader implements MessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** Length of the body being waited for, or -1 while reading headers. */
  private bodyLength = -1;
  /** The body read so far (while bodyLength ≥ 0), in the chunks it arrived in, and their total size. */
  private bodyChunks: Buffer[] = [];
  private bodyBytes = 0;
  private callback: DataCallback | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly onFault: (fault: FrameFault) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    const onError = (error: unknown) => this.fireError(error);
    const onEnd = () => this.fireClose();
    this.input.on('data', onData);
    this.input.on('error', onError);
    this.input.on('end', onEnd);
    this.input.on('close', onEnd);
    return Disposable.create(() => {
      this.input.off('data', onData);
      this.input.off('error', onError);
      this.input.off('end', onEnd);
      this.input.off('close', onEnd);
      this.callback = undefined;
    });
  }

  private onData(chunk: Buffer): void {
    if (this.bodyLength >= 0) {
      // Inside a body: keep the chunks and join them once, when the body is complete. Joining on
      // every chunk made a large message cost time quadratic in its size (a 20 MB message took
      // 27 s in 64 KB chunks).
      this.bodyChunks.push(chunk);
      this.bodyBytes += chunk.length;
      if (this.bodyBytes < this.bodyLength) return;
      this.buffer = Buffer.concat(this.bodyChunks, this.bodyBytes);
      this.bodyChunks = [];
      this.bodyBytes = 0;
    } else {
      // Header bytes: readHeaders keeps at most MAX_HEADER_BYTES of them, so this join stays small.
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    }
    // Each pass consumes bytes or returns to wait for more, so the loop ends.
    for (;;) {
      if (this.bodyLength < 0 && !this.readHeaders()) return;
      if (this.buffer.length < this.bodyLength) {
        this.bodyChunks = [this.buffer];
        this.bodyBytes = this.buffer.length;
        this.buffer = Buffer.alloc(0);
        return;
      }
      const body = this.buffer.subarray(0, this.bodyLength);
      this.buffer = this.buffer.subarray(this.bodyLength);
      this.bodyLength = -1;
      this.deliver(body);
    }
  }

  /** Consumes one header block; false when more bytes are needed. */
  private readHeaders(): boolean {
    for (;;) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) {
        if (this.buffer.length <= MAX_HEADER_BYTES) return false;
        this.skipGarbage(this.buffer.toString('latin1'), 1);
        continue;
      }
      const block = this.buffer.subarray(0, end).toString('latin1');
      const start = block.search(CONTENT_LENGTH);
      if (start > 0) {
        // Garbage in front of a header: drop it and parse from the header.
        this.fault(`Discarded ${start} bytes that were not a message header.`);
        this.buffer = this.buffer.subarray(start);
        continue;
      }
      const length = start === 0 ? parseContentLength(block) : undefined;
      this.buffer = this.buffer.subarray(end + HEADER_END.length);
      if (typeof length === 'string') {
        this.fault(length);
        continue;
      }
      if (length === undefined) {
        this.fault(`Discarded a header block without Content-Length: ${JSON.stringify(block.slice(0, 80))}.`);
        continue;
      }
      this.bodyLength = length;
      return true;
    }
  }

  /** Drops garbage up to the next `Content-Length:` (keeping a tail that may be a header's start). */
  private skipGarbage(text: string, from: number): void {
    const next = text.slice(from).search(CONTENT_LENGTH);
    const drop = next >= 0 ? from + next : Math.max(from, text.length - 'content-length:'.length);
    this.fault(`Discarded ${drop} bytes that were not a message header.`);
    this.buffer = this.buffer.subarray(drop);
  }

  private deliver(body: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(this.utf8.decode(body));
    } catch (err) {
      this.fault(`Parse error: the message body is not UTF-8 JSON (${err instanceof Error ? err.message : String(err)}).`);
      return;
    }
    const problem = describeInvalidMessage(message);
    if (problem) {
      const id = (message as { id?: unknown })?.id;
      this.onFault({
        code: ErrorCodes.InvalidRequest,
        message: `Invalid request: ${problem}`,
        id: typeof id === 'string' || typeof id === 'number' ? id : null,
      });
      return;
    }
    try {
      this.callback?.(message as Message);
    } catch (err) {
      // vscode-jsonrpc's dispatcher throws on a few malformed shapes we did not foresee; a bad
      // message must never take the reader (and so the server) down.
      this.fault(
        `Internal error while dispatching a message: ${err instanceof Error ? err.message : String(err)}`,
        ErrorCodes.InternalError,
      );
    }
  }

  private fault(message: string, code: number = ErrorCodes.ParseError): void {
    this.onFault({ code, message, id: null });
  }
}

/** The Content-Length of a header block starting with it: a number, an error text, or undefined when absent. */
function parseContentLength(block: string): number | string | undefined {
  let length: number | string | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) return `Discarded a header block with a line that is not 'Name: value': ${JSON.stringify(line.slice(0, 80))}.`;
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d+$/.test(value)) return `Discarded a message whose Content-Length is not a number: ${JSON.stringify(value.slice(0, 40))}.`;
    length = Number(value);
    if (length > MAX_BODY_BYTES) return `Discarded a message of ${length} bytes (the limit is ${MAX_BODY_BYTES}).`;
  }
  return length;
}

/** Why a parsed JSON value is not a JSON-RPC 2.0 message the connection can handle, or undefined. */
export function describeInvalidMessage(message: unknown): string | undefined {
  if (Array.isArray(message)) return 'batch messages (JSON arrays) are not supported; send one message per frame.';
  if (typeof message !== 'object' || message === null) return 'a message must be a JSON object.';
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return '"jsonrpc" must be "2.0".';
  if ('method' in m) {
    if (typeof m.method !== 'string') return '"method" must be a string.';
    if (m.id !== undefined && typeof m.id !== 'string' && typeof m.id !== 'number') return '"id" must be a string or a number.';
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null)) return '"params" must be an object or an array.';
    // The dispatcher reads params.id of cancellations without checking.
    if (m.method === '$/cancelRequest') {
      const id = (m.params as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string' && typeof id !== 'number') return '$/cancelRequest needs params.id (a string or number).';
    }
    return undefined;
  }
  if (Message.isResponse(m as unknown as Message)) return undefined;
  return 'neither a request (method + id), a notification (method) nor a response (id + result or error).';
}
