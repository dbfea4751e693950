import { formError, loading } from './form.ts';
import type { ConsolePage } from './page.ts';

export const credentialsPage: ConsolePage = {
  id: 'credentials',
  path: '/account/credentials',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('credentials.intro')}</p>
<form id="upload" novalidate>
<h2>${t('credentials.uploadTitle')}</h2>
<div class="field"><label for="upload-type">${t('credentials.type')}</label><select id="upload-type" name="credential_type" data-path="credential_type" aria-describedby="upload-type-error"></select><p class="field-error" id="upload-type-error"></p></div>
<div class="field"><label for="upload-image">${t('credentials.image')}</label><p class="hint" id="upload-image-hint">${t('credentials.imageHint')}</p><input id="upload-image" name="credential_image" type="file" accept="image/jpeg,image/png,image/webp" data-path="credential_image" aria-describedby="upload-image-hint upload-image-error" required><p class="field-error" id="upload-image-error"></p></div>
${formError()}
<button type="submit">${t('credentials.upload')}</button>
</form>
<section id="review" class="card" aria-labelledby="review-title" hidden>
<h2 id="review-title" tabindex="-1">${t('credentials.reviewTitle')}</h2>
<p class="hint" id="authenticity"></p>
<h3>${t('credentials.checks')}</h3>
<ul id="review-checks"></ul>
<form id="confirm" novalidate>
<p id="confirm-intro">${t('credentials.confirmIntro')}</p>
<div id="confirm-fields"></div>
${formError()}
<button type="submit">${t('credentials.confirm')}</button>
<button type="button" id="reject" class="danger">${t('credentials.reject')}</button>
</form>
</section>
<h2>${t('credentials.listTitle')}</h2>
${loading(t)}
<p id="no-credentials" hidden>${t('credentials.none')}</p>
<div id="credential-list"></div>`,
};
