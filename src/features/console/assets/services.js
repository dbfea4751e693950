import { api, boot, confirmStep, formatTime, h, loaded, t } from './console.js';

function card(service, reload) {
  const button = h('button', { type: 'button', class: 'danger' }, t('services.revoke', { name: service.name }));
  button.addEventListener('click', () =>
    confirmStep(button, {
      title: t('services.confirmTitle', { name: service.name }),
      text: t('services.confirmText'),
      items: service.fields.length ? service.fields : [t('common.none')],
      yes: t('services.confirm'),
      work: async () => {
        await api('DELETE', '/api/v1/profile/revoke-access', { json: { service_id: service.service_id } });
        await reload();
      },
      done: t('services.revoked', { name: service.name }),
    }),
  );
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
      h('dd', {}, service.scopes.length ? service.scopes.join(' ') : t('common.none')),
      h('dt', {}, t('services.documents')),
      h('dd', {}, String(service.documents.length)),
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
  const reload = async () => {
    const { services } = await api('GET', '/api/v1/profile/access');
    document.getElementById('service-list').replaceChildren(...services.map((s) => card(s, reload)));
    document.getElementById('no-services').hidden = services.length > 0;
    loaded();
  };
  await reload();
}

boot(render);
