/** Turns an export sent by a webview into the bytes to write. No `vscode` here: unit-tested. */

const pngDataUrlPrefix = 'data:image/png;base64,';

/** Bytes of a PNG data URL or a CSV text; throws a message the user can act on when malformed. */
export function exportBytes(format: 'png' | 'csv', content: string): Uint8Array {
  if (format === 'csv') return new TextEncoder().encode(content);
  if (!content.startsWith(pngDataUrlPrefix)) {
    throw new Error(`The chart snapshot is not a PNG data URL (it starts with "${content.slice(0, 30)}"); export the chart again.`);
  }
  const bytes = Buffer.from(content.slice(pngDataUrlPrefix.length), 'base64');
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) {
    throw new Error('The chart snapshot does not decode to a PNG image; export the chart again.');
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A file name safe on every OS, from a run or experiment name. */
export function safeFileName(name: string): string {
  // Control characters are what a file name must not hold, so the class names them.
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '-').replace(/^[.\s]+|[.\s]+$/g, '');
  return cleaned || 'export';
}
