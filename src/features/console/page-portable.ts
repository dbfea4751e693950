import { field, formError } from './form.ts';
import type { ConsolePage } from './page.ts';

export const portablePage: ConsolePage = {
  id: 'portable',
  path: '/account/portable',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('portable.intro')}</p>
<form id="export" novalidate>
<h2>${t('portable.exportTitle')}</h2>
${field('export', 'passphrase', t('portable.passphrase'), { type: 'password', autocomplete: 'new-password', required: true, hint: t('portable.passphraseHint') })}
${formError()}
<button type="submit">${t('portable.export')}</button>
<p id="export-done" hidden><a id="export-file" download="ringfence-profile.jwe">${t('portable.download')}</a></p>
</form>
<form id="import" novalidate>
<h2>${t('portable.importTitle')}</h2>
<p class="hint">${t('portable.importHint')}</p>
<div class="field"><label for="import-container">${t('portable.container')}</label><textarea id="import-container" name="container" rows="4" spellcheck="false" data-path="container signed" aria-describedby="import-container-error" required></textarea><p class="field-error" id="import-container-error"></p></div>
${field('import', 'passphrase', t('portable.importPassphrase'), { type: 'password', autocomplete: 'off', hint: t('portable.importPassphraseHint') })}
${formError()}
<button type="submit">${t('portable.import')}</button>
</form>
<ul id="import-result" hidden></ul>`,
};
