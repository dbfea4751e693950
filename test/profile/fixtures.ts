/** Images for the avatar tests, made with sharp, some carrying metadata that must not survive an upload. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

export const METADATA_MARKER = 'secret-location-51.5N';

export function png(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 60 } } })
    .png()
    .toBuffer();
}

export function webp(width = 64, height = 64): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 60 } } })
    .webp()
    .toBuffer();
}

/** A JPEG with EXIF and XMP metadata holding METADATA_MARKER. */
export async function jpegWithExif(width = 80, height = 60): Promise<Buffer> {
  const out = await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 30, b: 200 } } })
    .jpeg()
    .withExif({ IFD0: { ImageDescription: METADATA_MARKER, Copyright: METADATA_MARKER } })
    .withXmp(
      `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>${METADATA_MARKER}</rdf:Description></rdf:RDF></x:xmpmeta>`,
    )
    .toBuffer();
  if (!out.includes(METADATA_MARKER)) throw new Error('the fixture lost its metadata');
  return out;
}

/** A PNG with a tEXt chunk holding METADATA_MARKER right after its header. */
export async function pngWithText(): Promise<Buffer> {
  const image = await png();
  const type = Buffer.from('tEXt', 'latin1');
  const data = Buffer.from(`Comment\0${METADATA_MARKER}`, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, data])));
  const afterHeader = 8 + 4 + 4 + 13 + 4; // signature, IHDR length, type, data, CRC
  return Buffer.concat([image.subarray(0, afterHeader), length, type, data, crc, image.subarray(afterHeader)]);
}

/** A multipart body with one file field. */
export function upload(data: Buffer, filename: string, type: string, field = 'avatar', extra: Record<string, string> = {}): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(extra)) fd.append(k, v);
  fd.append(field, new Blob([new Uint8Array(data)], { type }), filename);
  return fd;
}
