/**
 * Decode one PNG or JPEG file to RGBA bytes, with errors that name the file and say what
 * is wrong with it.
 *
 * PNG goes through pngjs (`PNG.sync.read`), JPEG through jpeg-js with a memory bound so a
 * hostile or corrupt header cannot make it allocate gigabytes. Before handing bytes to a
 * decoder we check the signatures ourselves: the PNG signature and a final `IEND` chunk, the
 * JPEG start-of-image and end-of-image markers, and we walk the PNG chunk list checking each
 * chunk's CRC-32. A file cut short in a download then fails with "truncated", a damaged one
 * with the chunk that is damaged, instead of a decoder's internal message.
 *
 * Both formats are bounded in pixels, read from the header before anything is decoded: at
 * most {@link MAX_IMAGE_PIXELS} (40 megapixels, e.g. 8000 × 5000) unless `maxPixels` says
 * otherwise. A PNG compresses a blank 16000 × 16000 image into a few hundred kilobytes;
 * decoding it would take a gigabyte of RGBA and many seconds before being resized to 64 px.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import * as zlib from 'zlib';

/** A decoded image: 4 bytes (R, G, B, A) per pixel, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Options for {@link decodeImageFile}. */
export interface DecodeOptions {
  /** jpeg-js refuses to allocate more than this many MB for one image (default 256). */
  maxMemoryUsageInMB?: number;
  /** Refuse images with more pixels than this, before decoding (default {@link MAX_IMAGE_PIXELS}). */
  maxPixels?: number;
}

/** The default bound on width × height of one image: 40 megapixels (160 MB of RGBA). */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** File extensions {@link decodeImageFile} understands. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a); // not a Buffer: this module also loads in a browser

/** Read and decode `file` (chosen by extension). Throws `<file>: <what is wrong>`. */
export function decodeImageFile(file: string, opts: DecodeOptions = {}): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read image (${(e as Error).message})`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.png') return decodePng(bytes, file, opts);
  if (ext === '.jpg' || ext === '.jpeg') return decodeJpeg(bytes, file, opts);
  throw new Error(`${file}: unsupported image extension '${ext}', expected one of ${IMAGE_EXTENSIONS.join(', ')}`);
}

/** Decode PNG bytes; `file` is only used in error messages. */
export function decodePng(bytes: Buffer, file: string, opts: DecodeOptions = {}): DecodedImage {
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    throw new Error(`${file}: not a PNG file (the first 8 bytes are not the PNG signature; ${bytes.length} bytes in all)`);
  }
  const { width, height } = pngSize(bytes, file);
  checkPixels(file, width, height, opts.maxPixels);
  // Every PNG ends with the 12-byte IEND chunk: length 0, type "IEND", CRC.
  if (bytes.length < 20 || bytes.toString('latin1', bytes.length - 8, bytes.length - 4) !== 'IEND') {
    throw new Error(`${file}: truncated PNG (${bytes.length} bytes, no IEND chunk at the end)`);
  }
  checkPngChunks(bytes, file);
  try {
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
  } catch (e) {
    throw new Error(`${file}: corrupt PNG (pngjs: ${(e as Error).message})`);
  }
}

/** Width and height from the IHDR chunk, which the PNG format requires to come first. */
export function pngSize(bytes: Buffer, file: string): { width: number; height: number } {
  // signature (8) · length (4) · "IHDR" (4) · width (4) · height (4) · …
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error(`${file}: corrupt PNG (the first chunk is not IHDR, which holds the image size)`);
  }
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function checkPixels(file: string, width: number, height: number, maxPixels = MAX_IMAGE_PIXELS): void {
  if (width < 1 || height < 1) throw new Error(`${file}: image of ${width} × ${height} pixels has no pixels to decode`);
  if (width * height > maxPixels) {
    throw new Error(`${file}: image of ${width} × ${height} pixels (${(width * height / 1e6).toFixed(1)} MP) is larger than the limit of ${maxPixels} pixels; it is refused before decoding (downscale it first)`);
  }
}

/**
 * Walk the PNG chunks (4-byte length, 4-byte type, data, CRC-32 over type + data) and check
 * that each fits in the file and its CRC matches.
 */
function checkPngChunks(bytes: Buffer, file: string): void {
  let at = PNG_SIGNATURE.length;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error(`${file}: truncated PNG (chunk header at byte ${at} runs past the end, ${bytes.length} bytes)`);
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > bytes.length) throw new Error(`${file}: truncated PNG (chunk ${JSON.stringify(type)} at byte ${at} says ${length} bytes, only ${bytes.length - at - 12} follow)`);
    const crc = bytes.readUInt32BE(end - 4);
    if (zlib.crc32(bytes.subarray(at + 4, end - 4)) !== crc) {
      throw new Error(`${file}: corrupt PNG (chunk ${JSON.stringify(type)} at byte ${at} fails its CRC-32 check)`);
    }
    if (type === 'IEND') return;
    at = end;
  }
  throw new Error(`${file}: truncated PNG (${bytes.length} bytes, no IEND chunk)`);
}

/**
 * Width and height from the first start-of-frame marker (SOF0–SOF15 other than DHT C4, JPG C8,
 * DAC CC), walking the marker segments from the start; null when none is found before the scan.
 */
export function jpegSize(bytes: Buffer): { width: number; height: number } | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) { at++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; } // no length
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    }
    if (marker === 0xda) return null; // start of scan: no frame header before it
    at += 2 + length;
  }
  return null;
}

/** Decode JPEG bytes; `file` is only used in error messages. */
export function decodeJpeg(bytes: Buffer, file: string, opts: DecodeOptions = {}): DecodedImage {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new Error(`${file}: not a JPEG file (no start-of-image marker FFD8; ${bytes.length} bytes in all)`);
  }
  // Some writers pad after the end-of-image marker; look for FFD9 near the end.
  const tail = bytes.subarray(Math.max(0, bytes.length - 64));
  let hasEnd = false;
  for (let i = tail.length - 2; i >= 0 && !hasEnd; i--) hasEnd = tail[i] === 0xff && tail[i + 1] === 0xd9;
  if (!hasEnd) throw new Error(`${file}: truncated JPEG (${bytes.length} bytes, no end-of-image marker FFD9)`);
  const size = jpegSize(bytes);
  if (size) checkPixels(file, size.width, size.height, opts.maxPixels);
  try {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxMemoryUsageInMB: opts.maxMemoryUsageInMB ?? 256,
      maxResolutionInMP: (opts.maxPixels ?? MAX_IMAGE_PIXELS) / 1e6, // checked on the frame header, before decoding
    });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    throw new Error(`${file}: corrupt JPEG (jpeg-js: ${(e as Error).message})`);
  }
}
