import { field, formError, loading } from './form.ts';
import type { ConsolePage } from './page.ts';

const BLOOD = ['A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'];

export const emergencyPage: ConsolePage = {
  id: 'emergency',
  path: '/account/emergency',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('emergency.intro')}</p>
${loading(t)}
<form id="setup" novalidate>
<h2>${t('emergency.setupTitle')}</h2>
<p id="setup-state" class="hint"></p>
<div class="field"><label for="setup-blood_type">${t('emergency.bloodType')}</label><select id="setup-blood_type" name="blood_type" data-path="emergency_info.blood_type" aria-describedby="setup-blood_type-error"><option value="">${t('common.none')}</option>${BLOOD.map((b) => `<option value="${b}">${b}</option>`).join('')}</select><p class="field-error" id="setup-blood_type-error"></p></div>
${field('setup', 'allergies', t('emergency.allergies'), { path: 'emergency_info.allergies', hint: t('emergency.commaHint') })}
${field('setup', 'medications', t('emergency.medications'), { path: 'emergency_info.medications', hint: t('emergency.commaHint') })}
${field('setup', 'conditions', t('emergency.medicalConditions'), { path: 'emergency_info.conditions', hint: t('emergency.commaHint') })}
${field('setup', 'profile_fields', t('emergency.profileFields'), { path: 'emergency_info.profile_fields', hint: t('emergency.profileFieldsHint') })}
${field('setup', 'criteria', t('emergency.criteria'), { path: 'criteria', hint: t('emergency.criteriaHint'), required: true })}
${field('setup', 'access_minutes', t('emergency.minutes'), { type: 'number', path: 'criteria.access_minutes', extra: 'min="5" max="1440"' })}
${field('setup', 'trusted_contacts', t('emergency.contacts'), { path: 'trusted_contacts', hint: t('emergency.contactsHint') })}
${field('setup', 'public_text', t('emergency.publicText'), { hint: t('emergency.publicTextHint'), extra: 'maxlength="140"' })}
${formError()}
<button type="submit">${t('common.save')}</button>
<button type="button" id="setup-delete" class="danger" hidden>${t('emergency.delete')}</button>
</form>
<section id="card" aria-labelledby="card-title" hidden>
<h2 id="card-title">${t('emergency.cardTitle')}</h2>
<p><img id="card-image" alt="${t('emergency.cardAlt')}" width="320"></p>
<p><a id="card-png" download="emergency-card.png">${t('emergency.cardPng')}</a></p>
<p><a id="card-pdf" download="emergency-card.pdf" type="application/pdf">${t('emergency.cardPdf')}</a></p>
</section>
<section aria-labelledby="log-title">
<h2 id="log-title">${t('emergency.logTitle')}</h2>
<p id="no-log">${t('emergency.noLog')}</p>
<div id="log-list"></div>
</section>`,
};
