/**
 * Licence photos for the credential tests, the bench and anyone else who needs one: AAMVA DL/ID payloads built with
 * correct header, designators and offsets for any version 1–10 and jurisdiction, drawn as PDF417 by bwip-js, laid
 * on a card with sharp, and photographed: placed on a table, tilted, scaled, blurred and JPEG-compressed.
 */
import bwipjs from 'bwip-js';
import sharp, { type OverlayOptions } from 'sharp';
import { iinOf } from '../../src/features/credentials/iin.ts';
import type { TestApp } from '../helpers/app.ts';

export interface Holder {
  family: string;
  given: string;
  middle?: string;
  /** YYYY-MM-DD */
  dob: string;
  sex: '1' | '2' | '9';
  street: string;
  city: string;
  /** Jurisdiction code, e.g. CA or ON. */
  region: string;
  postal: string;
  country: 'USA' | 'CAN';
  number: string;
  /** YYYY-MM-DD */
  issued: string;
  /** YYYY-MM-DD */
  expires: string;
}

export const JANE: Holder = {
  family: 'SAMPLE',
  given: 'JANE',
  middle: 'QUINN',
  dob: '1990-01-31',
  sex: '2',
  street: '123 MAIN ST',
  city: 'SACRAMENTO',
  region: 'CA',
  postal: '958140000',
  country: 'USA',
  number: 'D1234567',
  issued: '2022-02-01',
  expires: '2031-01-31',
};

export const PIERRE: Holder = {
  family: 'TREMBLAY',
  given: 'PIERRE',
  dob: '1985-07-04',
  sex: '1',
  street: '45 RUE SAINT-PAUL',
  city: 'OTTAWA',
  region: 'ON',
  postal: 'K1A0B1',
  country: 'CAN',
  number: 'T7654-32109-50704',
  issued: '2021-07-04',
  expires: '2032-07-04',
};

export interface PayloadOptions {
  version?: number;
  document?: 'DL' | 'ID';
  /** Defaults to the IIN of the holder's region. */
  iin?: string;
  /** Elements to add or override (e.g. { DBA: '02302030' } for a date that does not exist). */
  extra?: Record<string, string>;
  /** Elements to leave out. */
  omit?: readonly string[];
  /** A jurisdiction subfile (Z + letter) with its elements. */
  zone?: { type: string; elements: Record<string, string> };
}

/** A date as the card's version and country write it: CCYYMMDD in version 1 and in Canada, MMDDCCYY otherwise. */
export function cardDate(iso: string, version: number, country: 'USA' | 'CAN'): string {
  const [y, m, d] = iso.split('-');
  return version === 1 || country === 'CAN' ? `${y}${m}${d}` : `${m}${d}${y}`;
}

/** The AAMVA payload of `holder` in the element set of `version`. */
export function aamvaPayload(holder: Holder, options: PayloadOptions = {}): string {
  const version = options.version ?? 10;
  const document = options.document ?? 'DL';
  const iin = options.iin ?? iinOf(holder.region) ?? '636014';
  const date = (iso: string) => cardDate(iso, version, holder.country);
  const els: [string, string][] = [];
  if (version === 1) {
    els.push(['DAQ', holder.number], ['DAA', `${holder.family},${holder.given}${holder.middle ? `,${holder.middle}` : ''}`]);
    els.push(['DAG', holder.street], ['DAI', holder.city], ['DAJ', holder.region], ['DAK', holder.postal]);
    els.push(['DBA', date(holder.expires)], ['DBB', date(holder.dob)], ['DBC', holder.sex], ['DBD', date(holder.issued)]);
    if (document === 'DL') els.push(['DAR', 'C'], ['DAS', 'NONE'], ['DAT', 'NONE']);
  } else {
    if (document === 'DL') els.push(['DCA', 'C'], ['DCB', 'NONE'], ['DCD', 'NONE']);
    els.push(['DBA', date(holder.expires)], ['DCS', holder.family]);
    if (version <= 3) els.push(['DCT', `${holder.given}${holder.middle ? ` ${holder.middle}` : ''}`]);
    else els.push(['DAC', holder.given], ['DAD', holder.middle ?? 'NONE']);
    els.push(['DBD', date(holder.issued)], ['DBB', date(holder.dob)], ['DBC', holder.sex], ['DAY', 'BRO'], ['DAU', '065 IN']);
    els.push(['DAG', holder.street], ['DAI', holder.city], ['DAJ', holder.region], ['DAK', holder.postal], ['DAQ', holder.number]);
    els.push(['DCF', `${holder.number}${holder.issued.replaceAll('-', '')}`], ['DCG', holder.country]);
    if (version >= 4) els.push(['DDE', 'N'], ['DDF', 'N'], ['DDG', 'N']);
    if (version >= 5) els.push(['DDA', 'F'], ['DDB', '01012020']);
  }
  const map = new Map(els);
  for (const id of options.omit ?? []) map.delete(id);
  for (const [id, v] of Object.entries(options.extra ?? {})) map.set(id, v);
  const subfiles: [string, string][] = [[document, [...map].map(([id, v]) => `${id}${v}`).join('\n')]];
  if (options.zone)
    subfiles.push([
      options.zone.type,
      Object.entries(options.zone.elements)
        .map(([id, v]) => `${id}${v}`)
        .join('\n'),
    ]);
  const bodies = subfiles.map(([type, text]) => `${type}${text}\r`);
  const headerLength = 4 + 5 + 6 + 2 + (version >= 2 ? 2 : 0) + 2 + 10 * subfiles.length;
  let offset = headerLength;
  const designators = subfiles.map(([type], i) => {
    const d = `${type}${String(offset).padStart(4, '0')}${String(bodies[i]!.length).padStart(4, '0')}`;
    offset += bodies[i]!.length;
    return d;
  });
  const header = `@\n\x1e\rANSI ${iin}${String(version).padStart(2, '0')}${version >= 2 ? '00' : ''}${String(subfiles.length).padStart(2, '0')}`;
  return header + designators.join('') + bodies.join('');
}

/** A PDF417 symbol of `text` as a PNG, as licences print it. */
export function pdf417(text: string, scale = 3): Promise<Buffer> {
  return bwipjs.toBuffer({ bcid: 'pdf417', text, scale, height: 10, columns: 10, binarytext: true, eclevel: 5 } as Parameters<
    typeof bwipjs.toBuffer
  >[0]);
}

const CARD_W = 1012;
const CARD_H = 638;

/** The back of a card: a tinted background, a magnetic-stripe-like band, a few printed blocks and the barcode. */
export async function cardBack(payload: string | undefined): Promise<Buffer> {
  const layers: OverlayOptions[] = [
    { input: { create: { width: CARD_W, height: 70, channels: 3, background: { r: 40, g: 60, b: 110 } } }, left: 0, top: 30 },
    { input: { create: { width: 420, height: 18, channels: 3, background: { r: 120, g: 120, b: 130 } } }, left: 40, top: 540 },
    { input: { create: { width: 300, height: 18, channels: 3, background: { r: 120, g: 120, b: 130 } } }, left: 40, top: 575 },
  ];
  if (payload !== undefined) {
    const symbol = await pdf417(payload);
    const meta = await sharp(symbol).metadata();
    const fitted =
      meta.width! > CARD_W - 60
        ? await sharp(symbol)
            .resize({ width: CARD_W - 60 })
            .toBuffer()
        : symbol;
    const fm = await sharp(fitted).metadata();
    layers.push({ input: fitted, left: Math.round((CARD_W - fm.width!) / 2), top: 140 + Math.max(0, Math.round((360 - fm.height!) / 2)) });
  }
  return sharp({ create: { width: CARD_W, height: CARD_H, channels: 3, background: { r: 236, g: 232, b: 222 } } })
    .composite(layers)
    .png()
    .toBuffer();
}

export interface PhotoOptions {
  /** Degrees, clockwise. */
  tilt?: number;
  /** Width of the photo's long side, in px. */
  width?: number;
  /** Gaussian blur sigma (0 for none). */
  blur?: number;
  /** JPEG quality, or 'png' / 'webp'. */
  quality?: number;
  format?: 'jpeg' | 'png' | 'webp';
}

/** A phone photo of a card: on a dark table with a margin, tilted, scaled, blurred and compressed. */
export async function photograph(card: Buffer, options: PhotoOptions = {}): Promise<Buffer> {
  const { tilt = 9, width = 1600, blur = 1, quality = 70, format = 'jpeg' } = options;
  const onTable = await sharp(card)
    .extend({ top: 120, bottom: 120, left: 160, right: 160, background: { r: 70, g: 62, b: 55 } })
    .rotate(tilt, { background: { r: 70, g: 62, b: 55 } })
    .resize({ width })
    .toBuffer();
  let out = sharp(onTable);
  if (blur > 0) out = out.blur(blur);
  if (format === 'png') return out.png().toBuffer();
  if (format === 'webp') return out.webp({ quality }).toBuffer();
  return out.jpeg({ quality }).toBuffer();
}

/** A tilted, blurred, compressed photo of the back of `holder`'s card. */
export async function licencePhoto(holder: Holder, payload: PayloadOptions = {}, photo: PhotoOptions = {}): Promise<Buffer> {
  return photograph(await cardBack(aamvaPayload(holder, payload)), photo);
}

/** A multipart body for add-credential. */
export function credentialUpload(image: Buffer | undefined, type: string | undefined, filename = 'licence.jpg', mime = 'image/jpeg'): FormData {
  const form = new FormData();
  if (type !== undefined) form.append('credential_type', type);
  if (image) form.append('credential_image', new Blob([new Uint8Array(image)], { type: mime }), filename);
  return form;
}

/** Adds a credential from a tilted photo of `holder`'s licence through the API; its 201 body. */
export async function addLicence(app: TestApp, token: string, holder: Holder = JANE, payload: PayloadOptions = {}) {
  const photo = await licencePhoto(holder, { version: 9, ...payload }, { tilt: 10, blur: 1, quality: 65 });
  const res = await app.request('POST', '/api/v1/profile/add-credential', { token, multipart: credentialUpload(photo, "Driver's License") });
  if (res.status !== 201) throw new Error(`add-credential: ${res.status} ${res.text}`);
  return res.body;
}
