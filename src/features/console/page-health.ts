import { field, formError, loading } from './form.ts';
import type { ConsolePage } from './page.ts';

const TYPES = ['Immunization', 'AllergyIntolerance', 'Condition', 'MedicationStatement', 'Observation', 'DocumentReference'];

export const healthPage: ConsolePage = {
  id: 'health',
  path: '/account/health',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('health.intro')}</p>
<h2>${t('health.recordsTitle')}</h2>
${loading(t)}
<p id="no-records" hidden>${t('health.noRecords')}</p>
<div id="record-list"></div>
<form id="new-record" novalidate>
<h3>${t('health.addRecord')}</h3>
<div class="field"><label for="new-record-resource">${t('health.resource')}</label><p class="hint" id="new-record-resource-hint">${t('health.resourceHint')}</p><textarea id="new-record-resource" name="resource" rows="8" spellcheck="false" data-path="resourceType ${TYPES.join(' ')}" aria-describedby="new-record-resource-hint new-record-resource-error" required></textarea><p class="field-error" id="new-record-resource-error"></p></div>
${formError()}
<button type="submit">${t('health.addRecordSubmit')}</button>
</form>
<h2>${t('health.linksTitle')}</h2>
<form id="new-link" novalidate>
<h3>${t('health.newLink')}</h3>
<fieldset class="field" id="new-link-types" data-path="health_records_info" aria-describedby="new-link-types-error"><legend>${t('health.types')}</legend>
${TYPES.map((type) => `<label><input type="checkbox" name="types" value="${type}"> ${type}</label>`).join('\n')}
<p class="field-error" id="new-link-types-error"></p></fieldset>
${field('new-link', 'doctor_email', t('health.doctorEmail'), { type: 'email', autocomplete: 'off', required: true })}
${field('new-link', 'expiration_date', t('health.expiry'), { type: 'date', hint: t('health.expiryHint') })}
${formError()}
<button type="submit">${t('health.createLink')}</button>
</form>
<div id="link-made" class="card" hidden><p>${t('health.linkMade')}</p><p><output id="link-url"></output></p></div>
<p id="no-links" hidden>${t('health.noLinks')}</p>
<div id="link-list"></div>`,
};
