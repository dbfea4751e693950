/**
 * Avatar images: accepted when their content (magic bytes, then the decoder) says PNG, JPEG or WebP and they are
 * at most 5 MB; re-encoded by sharp in the same format, turned upright, at most 1024 px a side, with every piece of
 * metadata (EXIF, GPS, XMP, ICC, text chunks) left behind.
 */
import { InvalidImage, type InvalidRequest, PayloadTooLarge, UnsupportedImage } from '../../errors.ts';

const MAX_AVATAR_BYTES = 5 * 1024 * 1024;
const MAX_SIDE = 1024;
// Refuse decompression bombs: a 5 MB file may claim an enormous canvas.
const MAX_INPUT_PIXELS = 40_000_000;

type ImageKind = 'png' | 'jpeg' | 'webp';

const CONTENT_TYPES: Record<ImageKind, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** The image format the first bytes announce, whatever the file's name or claimed type. */
function sniffImage(data: Buffer): ImageKind | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

export interface CleanImage {
  data: Buffer;
  kind: ImageKind;
  contentType: string;
  width: number;
  height: number;
}

function unreadable(): InvalidRequest {
  return new InvalidImage('avatar could not be decoded: the file may be damaged or truncated; export it again as PNG, JPEG or WebP', {
    details: [{ path: 'avatar', message: 'is not a readable image' }],
  });
}

/** Checks an uploaded picture and returns it re-encoded without metadata. */
export async function cleanAvatar(upload: Buffer): Promise<CleanImage> {
  if (upload.length > MAX_AVATAR_BYTES) {
    throw new PayloadTooLarge(`avatar is ${(upload.length / 1024 / 1024).toFixed(1)} MB: send a picture of at most 5 MB`);
  }
  const kind = sniffImage(upload);
  if (!kind) {
    throw new UnsupportedImage('avatar must be a PNG, JPEG or WebP image: this file is none of them (its content was checked, not its name)', {
      details: [{ path: 'avatar', message: 'is not PNG, JPEG or WebP' }],
    });
  }
  // Loaded on first use: libvips is large, and most processes (CLIs, workers) never touch an image.
  const { default: sharp } = await import('sharp');
  const input = () => sharp(upload, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, animated: false });
  let format: string | undefined;
  try {
    format = (await input().metadata()).format;
  } catch {
    throw unreadable();
  }
  if (format !== kind) throw unreadable();
  // rotate() applies the EXIF orientation before the EXIF is dropped; sharp writes no metadata unless asked to.
  const pipeline = input().rotate().resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true });
  const encoded =
    kind === 'png'
      ? pipeline.png({ compressionLevel: 9 })
      : kind === 'jpeg'
        ? pipeline.jpeg({ quality: 85, mozjpeg: true })
        : pipeline.webp({ quality: 85 });
  try {
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return { data, kind, contentType: CONTENT_TYPES[kind], width: info.width, height: info.height };
  } catch {
    throw unreadable();
  }
}
