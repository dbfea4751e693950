import { ApiError, api, boot, formatTime, h, loaded, setStatus, t } from './console.js';

let opener;

function closeDialog() {
  document.getElementById('confirm').hidden = true;
  opener?.focus();
}

function ask(service, reload) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = t('services.confirmTitle', { name: service.name });
  document.getElementById('confirm-fields').replaceChildren(...(service.fields.length ? service.fields : [t('common.none')]).map((f) => h('li', {}, f)));
  dialog.querySelector('.form-error').textContent = '';
  dialog.hidden = false;
  document.getElementById('confirm-title').focus();
  const yes = document.getElementById('confirm-yes');
  yes.onclick = async () => {
    yes.disabled = true;
    yes.setAttribute('aria-busy', 'true');
    setStatus(t('common.saving'));
    try {
      await api('DELETE', '/api/v1/profile/revoke-access', { json: { service_id: service.service_id } });
      dialog.hidden = true;
      await reload();
      setStatus(t('services.revoked', { name: service.name }));
      document.getElementById('main').focus();
    } catch (err) {
      setStatus('');
      if (err instanceof ApiError) dialog.querySelector('.form-error').textContent = err.message;
      else throw err;
    } finally {
      yes.disabled = false;
      yes.removeAttribute('aria-busy');
    }
  };
}

function card(service, reload) {
  const button = h('button', { type: 'button', class: 'danger' }, t('services.revoke', { name: service.name }));
  button.addEventListener('click', () => {
    opener = button;
    ask(service, reload);
  });
  return h(
    'section',
    { class: 'card', 'data-service': service.service_id, 'aria-label': service.name },
    h('h2', {}, service.name),
    h(
      'dl',
      {},
      h('dt', {}, t('services.role')),
      h('dd', {}, service.role),
      h('dt', {}, t('services.scopes')),
      h('dd', {}, service.scopes.join(' ')),
      h('dt', {}, t('services.sees')),
      h('dd', {}, service.fields.length ? h('ul', { class: 'tags' }, service.fields.map((f) => h('li', {}, f))) : t('common.none')),
      h('dt', {}, t('services.granted')),
      h('dd', {}, formatTime(service.granted_at)),
      h('dt', {}, t('services.lastUsed')),
      h('dd', {}, service.last_used_at ? formatTime(service.last_used_at) : t('services.never')),
    ),
    button,
  );
}

async function render() {
  document.getElementById('confirm-no').addEventListener('click', closeDialog);
  document.getElementById('confirm').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeDialog();
  });
  const reload = async () => {
    const { services } = await api('GET', '/api/v1/profile/access');
    document.getElementById('service-list').replaceChildren(...services.map((s) => card(s, reload)));
    document.getElementById('no-services').hidden = services.length > 0;
    loaded();
  };
  await reload();
}

boot(render);
