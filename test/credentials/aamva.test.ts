import test from 'ava';
import { AamvaError, parseAamva } from '../../src/features/credentials/aamva.ts';
import { decodePdf417 } from '../../src/features/credentials/barcode.ts';
import { aamvaPayload, cardBack, JANE, licencePhoto, PIERRE, photograph } from './fixtures.ts';

for (const version of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
  test(`an AAMVA version ${version} payload parses to the holder's data`, (t) => {
    const data = parseAamva(aamvaPayload(JANE, { version }));
    t.is(data.version, version);
    t.is(data.iin, '636014');
    t.like(data.issuer, { code: 'CA', country: 'USA' });
    t.is(data.document, 'DL');
    t.is(data.document_number, 'D1234567');
    t.is(data.family_name, 'SAMPLE');
    t.is(data.given_name, 'JANE');
    t.is(data.middle_name, 'QUINN');
    t.is(data.date_of_birth, '1990-01-31');
    t.is(data.expiry_date, '2031-01-31');
    t.is(data.issue_date, '2022-02-01');
    t.is(data.sex, 'female');
    t.deepEqual(data.address, { street_address: '123 MAIN ST', locality: 'SACRAMENTO', region: 'CA', postal_code: '95814', country: 'US' });
    t.deepEqual(data.problems, []);
  });
}

test('a Canadian card has CCYYMMDD dates and a Canadian postal code', (t) => {
  const data = parseAamva(aamvaPayload(PIERRE, { version: 8, zone: { type: 'ZO', elements: { ZOA: 'X', ZOB: '42' } } }));
  t.like(data.issuer, { code: 'ON', name: 'Ontario', country: 'CAN' });
  t.is(data.date_of_birth, '1985-07-04');
  t.is(data.expiry_date, '2032-07-04');
  t.is(data.address?.postal_code, 'K1A 0B1');
  t.is(data.address?.country, 'CA');
  t.deepEqual(data.jurisdiction_fields, { ZOA: 'X', ZOB: '42' });
});

test('an ID card has an ID subfile and no class', (t) => {
  const data = parseAamva(aamvaPayload(JANE, { version: 9, document: 'ID' }));
  t.is(data.document, 'ID');
  t.is(data.vehicle_class, undefined);
  t.is(data.compliance_type, 'F');
});

test('what is not AAMVA is refused, naming what is wrong', (t) => {
  const cases: [string, RegExp][] = [
    ['https://example.com/ticket/42', /compliance indicator "@"/],
    ['@\n\x1e\rHELLO 636014100102DL00410200', /file type is "HELLO"/],
    ['@\n\x1e\rANSI 63A014100102DL00410200', /IIN\) is "63A014"/],
    [aamvaPayload(JANE).replace('ANSI 63601410', 'ANSI 63601411'), /version 11 is not supported/],
    [aamvaPayload(JANE).slice(0, 25), /cut short|too little/],
    [aamvaPayload(JANE).replace('DL00', 'XX00'), /no DL or ID subfile/],
  ];
  for (const [payload, message] of cases) {
    const err = t.throws(() => parseAamva(payload), { instanceOf: AamvaError });
    t.regex(err!.message, message, payload);
  }
});

test('a date that does not exist and a missing element are problems, not failures', (t) => {
  const data = parseAamva(aamvaPayload(JANE, { extra: { DBA: '02302030' }, omit: ['DAQ'] }));
  t.is(data.expiry_date, undefined);
  t.deepEqual(data.problems, ['element DAQ is missing', 'the expiry date (DBA) is not a date']);
});

for (const tilt of [-12, -7, 0, 4, 7, 11, 15]) {
  test(`a photo tilted ${tilt}° decodes`, async (t) => {
    const payload = aamvaPayload(JANE, { version: 9 });
    const photo = await photograph(await cardBack(payload), { tilt, blur: 1.1, quality: 65 });
    const out = await decodePdf417(photo);
    t.is(out.payload, payload, `skew ${out.skew}, ${out.tries} tries`);
  });
}

test('a blurred, small PNG and a WebP decode', async (t) => {
  for (const format of ['png', 'webp'] as const) {
    const photo = await licencePhoto(PIERRE, { version: 10 }, { tilt: 8, width: 1300, blur: 1.4, format });
    t.truthy((await decodePdf417(photo)).payload, format);
  }
});

test('a photo with no barcode decodes to nothing', async (t) => {
  const out = await decodePdf417(await photograph(await cardBack(undefined), { tilt: 5 }));
  t.is(out.payload, undefined);
});
