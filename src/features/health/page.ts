/**
 * The doctor's page of a health link (`/share/<token>#<key>`): no inline script or style, no third-party asset,
 * under a CSP of its own that allows only this origin's script, style sheet and API. The script asks for the
 * doctor's address and the code, fetches the JWE and decrypts it with WebCrypto under the key from the fragment,
 * which never leaves the browser.
 */

/** The CSP of the page: its own script and style only, fetches to this origin only, no framing, no forms. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const head = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Ringfence</title>
<link rel="stylesheet" href="/share/assets/health-link.css">
</head>`;

export const LINK_PAGE = `${head('Shared health records')}
<body>
<main>
<h1>Shared health records</h1>
<p class="error" role="alert" id="error" hidden></p>
<section id="step-email">
<p>These records were shared with one e-mail address. Confirm it to receive a one-time code.</p>
<label for="email">Your e-mail address</label>
<input id="email" type="email" autocomplete="email" required>
<button id="send-code" type="button">Send me a code</button>
</section>
<section id="step-code" hidden>
<p id="code-sent">If this is the address the link was sent to, a code is on its way.</p>
<label for="code">One-time code</label>
<input id="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6">
<button id="open" type="button">Open the records</button>
</section>
<section id="records" hidden>
<p class="muted" id="summary"></p>
<div id="list"></div>
<button id="download" type="button" class="secondary">Download FHIR JSON</button>
</section>
</main>
<script src="/share/assets/health-link.js"></script>
</body>
</html>
`;

export const GONE_PAGE = `${head('Link no longer valid')}
<body>
<main>
<h1>This link no longer works</h1>
<p class="error" role="alert">This link has expired or was revoked.</p>
<p>Ask the person who shared their health records with you for a new link.</p>
</main>
</body>
</html>
`;

const STYLE = `
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:46rem;margin:3rem auto;background:#fff;padding:2rem 2.25rem;border-radius:10px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #d8dce4;padding-bottom:.25rem}
label{display:block;font-weight:600;margin:.9rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.55rem .6rem;border:1px solid #a9afbb;border-radius:6px;font:inherit}
button{font:inherit;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #2450b2;background:#2f62d6;color:#fff;cursor:pointer;margin:1rem .5rem 0 0}
button.secondary{background:#fff;color:#2450b2}
.error{background:#fdecea;border:1px solid #e3a29b;padding:.6rem .8rem;border-radius:6px}
.muted{color:#5b6473;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eceef2;vertical-align:top}
th{color:#5b6473;font-weight:600}
[hidden]{display:none}
`;

const SCRIPT = `'use strict';
(function () {
  var token = location.pathname.split('/').pop();
  var key = location.hash.slice(1);
  var $ = function (id) { return document.getElementById(id); };
  var bundle = null;
  function fail(message) { var e = $('error'); e.textContent = message; e.hidden = false; }
  function clear() { $('error').hidden = true; }
  function b64u(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function post(path, body) {
    return fetch('/api/v1/health-links/' + token + path, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit'
    }).then(function (res) {
      return res.json().then(function (json) {
        if (res.status === 404) { location.reload(); throw new Error(json.status); }
        if (!res.ok) throw new Error(json.status || 'the request failed');
        return json;
      });
    });
  }
  async function decrypt(jwe) {
    var parts = jwe.split('.');
    if (parts.length !== 5 || parts[1] !== '') throw new Error('not a compact JWE with a direct key');
    var header = JSON.parse(new TextDecoder().decode(b64u(parts[0])));
    if (header.alg !== 'dir' || header.enc !== 'A256GCM') throw new Error('unsupported JWE algorithm');
    var cryptoKey = await crypto.subtle.importKey('raw', b64u(key), { name: 'AES-GCM' }, false, ['decrypt']);
    var ct = b64u(parts[3]), tag = b64u(parts[4]), data = new Uint8Array(ct.length + tag.length);
    data.set(ct); data.set(tag, ct.length);
    var plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: b64u(parts[2]), additionalData: new TextEncoder().encode(parts[0]), tagLength: 128 }, cryptoKey, data);
    return JSON.parse(new TextDecoder().decode(plain));
  }
  function text(cc) {
    if (!cc) return '';
    if (cc.text) return cc.text;
    var c = (cc.coding || [])[0];
    return c ? (c.display || c.code || '') : '';
  }
  function when(r) {
    return r.occurrenceDateTime || r.recordedDate || r.onsetDateTime || r.effectiveDateTime || r.dateAsserted ||
      (r.effectivePeriod && r.effectivePeriod.start) || r.date || r.issued || '';
  }
  function value(r) {
    if (r.valueQuantity) return r.valueQuantity.value + ' ' + (r.valueQuantity.unit || r.valueQuantity.code || '');
    if (r.valueString) return r.valueString;
    if (r.valueCodeableConcept) return text(r.valueCodeableConcept);
    return '';
  }
  var SECTIONS = [
    ['AllergyIntolerance', 'Allergies and intolerances', function (r) { return [text(r.code), text(r.clinicalStatus), r.criticality || '', (r.reaction || []).map(function (x) { return (x.manifestation || []).map(text).join(', '); }).join('; ')]; }, ['Substance', 'Status', 'Criticality', 'Reaction']],
    ['Immunization', 'Immunizations', function (r) { return [text(r.vaccineCode), when(r), r.status || '', r.lotNumber || '']; }, ['Vaccine', 'Date', 'Status', 'Lot']],
    ['Condition', 'Conditions', function (r) { return [text(r.code), text(r.clinicalStatus), when(r), '']; }, ['Condition', 'Status', 'Onset', '']],
    ['MedicationStatement', 'Medications', function (r) { return [text(r.medicationCodeableConcept) || (r.medicationReference && r.medicationReference.display) || '', r.status || '', (r.dosage || []).map(function (d) { return d.text || ''; }).join('; '), when(r)]; }, ['Medication', 'Status', 'Dosage', 'Date']],
    ['Observation', 'Observations', function (r) { return [text(r.code), value(r), when(r), r.status || '']; }, ['Observation', 'Value', 'Date', 'Status']],
    ['DocumentReference', 'Documents', function (r) { return [r.description || text(r.type), when(r), (r.content || []).map(function (c) { return c.attachment && (c.attachment.title || c.attachment.contentType); }).join(', '), r.status || '']; }, ['Document', 'Date', 'Files', 'Status']]
  ];
  function render(b) {
    var list = $('list');
    list.textContent = '';
    var resources = (b.entry || []).map(function (e) { return e.resource; });
    SECTIONS.forEach(function (s) {
      var rows = resources.filter(function (r) { return r.resourceType === s[0]; });
      if (rows.length === 0) return;
      var h = document.createElement('h2'); h.textContent = s[1]; list.appendChild(h);
      var table = document.createElement('table'), tr = document.createElement('tr');
      s[3].forEach(function (c) { var th = document.createElement('th'); th.textContent = c; tr.appendChild(th); });
      table.appendChild(tr);
      rows.forEach(function (r) {
        var row = document.createElement('tr');
        s[2](r).forEach(function (c) { var td = document.createElement('td'); td.textContent = c; row.appendChild(td); });
        row.setAttribute('data-type', s[0]);
        table.appendChild(row);
      });
      list.appendChild(table);
    });
    $('summary').textContent = resources.length + ' record' + (resources.length === 1 ? '' : 's') + ' shared with you.';
  }
  $('send-code').addEventListener('click', function () {
    clear();
    post('/code', { email: $('email').value }).then(function () {
      $('step-code').hidden = false; $('code').focus();
    }).catch(function (e) { fail(e.message); });
  });
  $('open').addEventListener('click', function () {
    clear();
    post('/access', { email: $('email').value, code: $('code').value }).then(function (answer) {
      return decrypt(answer.jwe);
    }).then(function (b) {
      bundle = b;
      $('step-email').hidden = true; $('step-code').hidden = true; $('records').hidden = false;
      render(b);
    }).catch(function (e) { fail(e.message); });
  });
  $('download').addEventListener('click', function () {
    var url = URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/fhir+json' }));
    var a = document.createElement('a'); a.href = url; a.download = 'health-records.json';
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });
  if (!key) fail('This link is incomplete: open it exactly as it was sent to you, with everything after the # sign.');
})();
`;

/** The page's files: a fixed list, so the path parameter can never reach anything else. */
const ASSETS: Record<string, { type: string; body: string }> = {
  'health-link.js': { type: 'text/javascript; charset=utf-8', body: SCRIPT },
  'health-link.css': { type: 'text/css; charset=utf-8', body: STYLE },
};

export function findPageAsset(name: string): { type: string; body: string } | undefined {
  return Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
}
