/**
 * The emergency card (use case 5, step 1: "the responder locates the person's device"): the person's chosen public
 * text and a QR code holding the card's opaque id — never the e-mail address — that a responder's app passes to the
 * grant as `card_id`. Printable as PNG or PDF (A6, one card).
 */
// pdfkit, qrcode and sharp are loaded by the first card drawn: most processes draw none.

const WIDTH = 1050;
const HEIGHT = 600;
const QR_SIZE = 480;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Breaks `text` into lines of at most `width` characters, on spaces where it can. */
function lines(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && `${line} ${word}`.length > width) {
      out.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word.slice(0, width);
  }
  if (line) out.push(line);
  return out.slice(0, 6);
}

async function qrPng(cardId: string, size: number): Promise<Buffer> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toBuffer(cardId, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: size });
}

/** The card as a PNG: the text on the left, the QR code on the right. */
export async function cardPng(cardId: string, publicText: string): Promise<Buffer> {
  const text = lines(publicText, 22)
    .map((l, i) => `<text x="40" y="${200 + i * 52}" font-family="sans-serif" font-size="40" fill="#111">${escapeXml(l)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">
    <rect width="100%" height="100%" fill="#ffffff"/>
    <rect x="0" y="0" width="${WIDTH}" height="110" fill="#c62828"/>
    <text x="40" y="75" font-family="sans-serif" font-size="52" font-weight="bold" fill="#ffffff">EMERGENCY</text>
    ${text}
    <text x="40" y="${HEIGHT - 40}" font-family="sans-serif" font-size="22" fill="#555">Responders: scan with your Ringfence app</text>
  </svg>`;
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(svg))
    .composite([{ input: await qrPng(cardId, QR_SIZE), left: WIDTH - QR_SIZE - 30, top: 115 }])
    .png()
    .toBuffer();
}

/** The card as a one-page PDF (A6 landscape). */
export async function cardPdf(cardId: string, publicText: string): Promise<Buffer> {
  const qr = await qrPng(cardId, 600);
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ size: 'A6', layout: 'landscape', margin: 18, info: { Title: 'Ringfence emergency card', Producer: 'Ringfence' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  const { width, height } = doc.page;
  doc.rect(0, 0, width, 40).fill('#c62828');
  doc.fillColor('#ffffff').font('Helvetica-Bold').fontSize(20).text('EMERGENCY', 18, 11);
  doc
    .fillColor('#111111')
    .font('Helvetica')
    .fontSize(13)
    .text(publicText, 18, 56, { width: width - 200 });
  doc.image(qr, width - 175, 50, { width: 160 });
  doc
    .fillColor('#555555')
    .fontSize(8)
    .text('Responders: scan the code with your Ringfence app', 18, height - 28);
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
