import { api, boot, formatTime, h, loaded, t } from './console.js';

const sha256 = async (...parts) => new Uint8Array(await crypto.subtle.digest('SHA-256', concat(parts)));
const concat = (parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (text) => Uint8Array.from(text.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const unbase64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/** The chain head's leaf hash (src/audit/merkle.ts): 0x00, the key with its length, chain_seq, the head hash. */
async function leafHash(chain, seq, hash) {
  const key = new TextEncoder().encode(chain);
  const fixed = new DataView(new ArrayBuffer(10));
  fixed.setUint16(0, key.length);
  fixed.setBigUint64(2, BigInt(seq));
  const bytes = new Uint8Array(fixed.buffer);
  return sha256(new Uint8Array([0]), bytes.subarray(0, 2), key, bytes.subarray(2), unhex(hash));
}

/** RFC 9162 2.1.3.2: the root the head and its audit path make, against the one signed. */
async function pathHolds(proof) {
  let fn = proof.leaf_index;
  let sn = proof.tree_size - 1;
  let r = await leafHash(proof.chain, proof.head.chain_seq, proof.head.hash);
  for (const p of proof.proof.map(unhex)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(new Uint8Array([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = await sha256(new Uint8Array([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && hex(r) === proof.checkpoint.root;
}

/** The checkpoint's JWS (ES256) under the published issuer key it names, and that it signs the root shown. */
async function signatureHolds(proof) {
  const [header, payload, signature] = proof.checkpoint.jws.split('.');
  const { kid, alg } = JSON.parse(new TextDecoder().decode(unbase64url(header)));
  const jwks = await api('GET', '/api/v1/issuer/jwks.json');
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk || alg !== 'ES256') return false;
  const key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const signed = new TextEncoder().encode(`${header}.${payload}`);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, unbase64url(signature), signed);
  return ok && JSON.parse(new TextDecoder().decode(unbase64url(payload))).root === proof.checkpoint.root;
}

/** The newest signed checkpoint covering the person's own chain, checked here, in the browser. */
async function sealed() {
  const box = document.getElementById('sealed');
  const text = document.getElementById('sealed-text');
  let proof;
  try {
    proof = await api('GET', '/api/v1/profile/activity/proof');
  } catch (err) {
    if (err.status !== 404) throw err;
    text.textContent = t('activity.sealedNotYet');
    box.hidden = false;
    return;
  }
  const holds = (await pathHolds(proof)) && (await signatureHolds(proof));
  const vars = { n: proof.head.chain_seq, time: formatTime(proof.checkpoint.issued_at) };
  text.textContent = t(holds ? 'activity.sealedOk' : 'activity.sealedBad', vars);
  box.dataset.verified = String(holds);
  const download = document.getElementById('sealed-download');
  download.href = URL.createObjectURL(new Blob([JSON.stringify(proof, null, 2)], { type: 'application/json' }));
  download.hidden = false;
  box.hidden = false;
}

async function render() {
  const table = document.getElementById('events');
  const body = table.querySelector('tbody');
  const more = document.getElementById('more');
  const kind = document.getElementById('kind');
  let cursor = null;
  const load = async (append) => {
    const query = new URLSearchParams({ limit: '20' });
    if (kind.value) query.set('kind', kind.value);
    if (append && cursor) query.set('cursor', cursor);
    more.setAttribute('aria-busy', 'true');
    const page = await api('GET', `/api/v1/profile/activity?${query}`);
    more.removeAttribute('aria-busy');
    const rows = page.events.map((e) =>
      h(
        'tr',
        { 'data-action': e.action },
        h('td', { 'data-label': t('activity.when') }, h('time', { datetime: e.at }, formatTime(e.at))),
        h('th', { scope: 'row' }, e.action),
        h('td', { 'data-label': t('activity.who') }, e.actor),
        h('td', { 'data-label': t('activity.details') }, h('code', {}, Object.keys(e.data).length ? JSON.stringify(e.data) : '')),
      ),
    );
    if (append) body.append(...rows);
    else body.replaceChildren(...rows);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const empty = body.children.length === 0;
    document.getElementById('empty').hidden = !empty;
    table.hidden = empty;
    loaded();
  };
  kind.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));
  await Promise.all([load(false), sealed()]);
}

boot(render);
