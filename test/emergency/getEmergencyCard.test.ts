/**
 * The emergency card (use case 5, step 1): a PNG and a PDF with the person's public text and a QR code holding an
 * opaque id of 256 bits — never the e-mail — that a responder's app passes to the grant as card_id. Rotating it
 * makes the old card stop working.
 */
import test from 'ava';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import sharp from 'sharp';
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';
import { ARTIFACTS, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addToRoster, grant, MEDICAL, personWithSetup, responderOrganisation } from './fixtures.ts';

const app = useTestApp();

test.before(() => {
  const wasm = readFileSync(new URL('../../node_modules/zxing-wasm/dist/reader/zxing_reader.wasm', import.meta.url));
  prepareZXingModule({ overrides: { wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer } });
});

/** The text of the QR code in a PNG, as a responder's phone would read it. */
async function scan(png: Buffer): Promise<string> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const results = await readBarcodes({ data: new Uint8ClampedArray(data), width: info.width, height: info.height, colorSpace: 'srgb' } as ImageData, {
    formats: ['QRCode'],
  });
  if (results.length !== 1) throw new Error(`expected one QR code, found ${results.length}`);
  return results[0].text;
}

async function card(token: string, format: 'png' | 'pdf') {
  const res = await fetch(`${app.url}/api/v1/profile/emergency-access/card?format=${format}`, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    cache: res.headers.get('cache-control'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

test('the card is a PNG and a PDF; its QR code holds a 256-bit opaque id that opens the grant; rotation retires it', async (t) => {
  const person = await personWithSetup(app, []);
  const png = await card(person.token, 'png');
  t.is(png.status, 200);
  t.is(png.type, 'image/png');
  t.is(png.cache, 'private, no-store');
  const meta = await sharp(png.body).metadata();
  t.is(meta.format, 'png');
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(`${ARTIFACTS}emergency-card.png`, png.body);

  const cardId = await scan(png.body);
  t.regex(cardId, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  t.false(cardId.includes(person.person.email));
  t.false(cardId.includes('@'));

  const pdf = await card(person.token, 'pdf');
  t.is(pdf.status, 200);
  t.is(pdf.type, 'application/pdf');
  t.is(pdf.body.subarray(0, 5).toString('latin1'), '%PDF-');
  writeFileSync(`${ARTIFACTS}emergency-card.pdf`, pdf.body);

  // A responder's app passes the scanned id instead of the e-mail.
  const org = await responderOrganisation(app, 'Card Ambulance');
  await addToRoster(app, org, { responder_id: 'c1', name: 'Card Medic', licence: 'C1' });
  const byCard = await grant(app, org, {
    responder_id: 'c1',
    reason: 'Found this card on the patient',
    card_id: cardId,
    criterion: 'unconsciousness',
  });
  t.is(byCard.status, 200, byCard.text);
  t.like(byCard.body.emergency_info, MEDICAL);

  const rotated = await app.request('POST', '/api/v1/profile/emergency-access/card/rotate', { token: person.token });
  t.is(rotated.status, 200, rotated.text);
  const old = await grant(app, org, { responder_id: 'c1', reason: 'Old card', card_id: cardId, criterion: 'unconsciousness' });
  assertError(t, old, 404, 'emergency_access_not_found');
  const fresh = await scan((await card(person.token, 'png')).body);
  t.not(fresh, cardId);
  t.is((await grant(app, org, { responder_id: 'c1', reason: 'New card', card_id: fresh, criterion: 'unconsciousness' })).status, 200);
});

test('without a setup there is no card', async (t) => {
  const { register } = await import('../accounts/fixtures.ts');
  const person = await register(app);
  assertError(t, await app.request('GET', '/api/v1/profile/emergency-access/card', { token: person.token }), 404, 'emergency_access_not_found');
});
