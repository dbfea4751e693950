import { api, boot, h, onSubmit, setStatus, t } from './console.js';

async function render() {
  onSubmit('export', async (data, form) => {
    const container = await api('POST', '/api/v1/profile/export', { json: { passphrase: String(data.get('passphrase') ?? '') } });
    const link = document.getElementById('export-file');
    link.href = `data:application/jose;charset=utf-8,${encodeURIComponent(String(container))}`;
    link.dataset.size = String(String(container).length);
    document.getElementById('export-done').hidden = false;
    form.elements.passphrase.value = '';
    setStatus(t('portable.exported'));
  });

  onSubmit('import', async (data) => {
    const text = String(data.get('container') ?? '').trim();
    const passphrase = String(data.get('passphrase') ?? '');
    const body = passphrase ? { container: text, passphrase } : { signed: text };
    const res = await api('POST', '/api/v1/profile/import', { json: body });
    const list = document.getElementById('import-result');
    list.replaceChildren(...Object.entries(res.sections).map(([name, s]) => h('li', { 'data-section': name }, t('portable.section', { name, n: s.imported }))));
    list.hidden = false;
    setStatus(t('portable.imported', { issuer: res.issuer }));
  });
}

boot(render);
