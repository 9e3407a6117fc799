/**
 * PNG / JPEG decoding to 8-bit RGB (the format is told by the file's bytes, not its name).
 * Grayscale is replicated into three channels and alpha dropped, as PIL's convert('RGB') does.
 */
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from './errors';
import type { Image } from './resize';

function isPng(buf: Uint8Array): boolean {
  return buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47;
}

function isJpeg(buf: Uint8Array): boolean {
  return buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

function corrupt(file: string, err: unknown): DataError {
  return new DataError(
    `${file}: unreadable image: ${(err as Error).message ?? String(err)}. The file is corrupt or truncated; replace or remove it.`,
    file,
  );
}

/** Decodes a PNG or JPEG file's bytes to an RGB image. */
export function decodeImage(buf: Buffer, file: string): Image {
  if (isPng(buf)) {
    let png: PNG;
    try {
      png = PNG.sync.read(buf);
    } catch (err) {
      throw corrupt(file, err);
    }
    const { width, height, data } = png;
    const rgb = new Uint8Array(width * height * 3);
    // pngjs always hands out RGBA (grayscale and palettes already expanded).
    for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
      rgb[q] = data[p];
      rgb[q + 1] = data[p + 1];
      rgb[q + 2] = data[p + 2];
    }
    return { height, width, channels: 3, data: rgb };
  }
  if (isJpeg(buf)) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false });
    } catch (err) {
      throw corrupt(file, err);
    }
    if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
      throw corrupt(file, new Error('decoder returned no pixels'));
    }
    return { height: img.height, width: img.width, channels: 3, data: img.data };
  }
  const head = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new DataError(
    `${file}: unreadable image: not a PNG or JPEG file (it starts with bytes ${head || '(empty file)'}). ` +
      `Convert it to PNG or JPEG, or remove it from the class folder.`,
    file,
  );
}
