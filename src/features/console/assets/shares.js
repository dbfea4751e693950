import { ApiError, api, boot, confirmStep, formatTime, h, loaded, setStatus, t } from './console.js';

function action(label, cls, method, path, done, reload) {
  return h(
    'button',
    {
      type: 'button',
      class: cls,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        setStatus(t('common.saving'));
        try {
          await api(method, path);
          await reload();
          setStatus(done);
        } catch (err) {
          setStatus(err instanceof ApiError ? err.message : '');
          if (!(err instanceof ApiError)) throw err;
        }
      },
    },
    label,
  );
}

function requestCard(r, reload) {
  const vars = { name: r.service_name };
  return h(
    'section',
    { class: 'card', 'data-request': r.request_id, 'aria-label': r.service_name },
    h('h3', {}, r.service_name),
    h(
      'dl',
      {},
      h('dt', {}, t('shares.asks')),
      h('dd', {}, r.fields.join(', ')),
      h('dt', {}, t('shares.purpose')),
      h('dd', {}, r.purpose),
      h('dt', {}, t('shares.role')),
      h('dd', {}, r.role),
      h('dt', {}, t('shares.state')),
      h('dd', { 'data-state': r.state }, t(`shares.state_${r.state}`)),
      h('dt', {}, t('shares.until')),
      h('dd', {}, formatTime(r.expires_at)),
    ),
    r.state === 'pending'
      ? h(
          'p',
          {},
          action(t('shares.approve', vars), '', 'POST', `/api/v1/profile/requests/${r.request_id}/approve`, t('shares.approved', vars), reload),
          ' ',
          action(t('shares.decline', vars), 'secondary', 'POST', `/api/v1/profile/requests/${r.request_id}/decline`, t('shares.declined', vars), reload),
        )
      : null,
  );
}

function revokeButton(s, reload) {
  const vars = { name: s.service_name, fields: s.fields.join(', ') };
  const button = h('button', { type: 'button', class: 'danger' }, t('shares.revoke', vars));
  button.addEventListener('click', () =>
    confirmStep(button, {
      title: t('shares.confirmTitle', vars),
      text: t('shares.confirmText', vars),
      yes: t('shares.confirm'),
      work: async () => {
        await api('DELETE', `/api/v1/profile/shares/${s.share_id}`);
        await reload();
      },
      done: t('shares.revoked', vars),
    }),
  );
  return button;
}

function shareCard(s, reload) {
  return h(
    'section',
    { class: 'card', 'data-share': s.share_id, 'aria-label': `${s.service_name}: ${s.fields.join(', ')}` },
    h('h3', {}, s.service_name),
    h(
      'dl',
      {},
      h('dt', {}, t('shares.fields')),
      h('dd', {}, s.fields.join(', ')),
      h('dt', {}, t('shares.state')),
      h('dd', { 'data-state': s.state }, t(`shares.state_${s.state}`)),
      h('dt', {}, t('shares.created')),
      h('dd', {}, formatTime(s.created_at)),
      h('dt', {}, t('shares.until')),
      h('dd', {}, formatTime(s.revoked_at ?? s.expires_at)),
    ),
    s.state === 'active' ? h('p', {}, revokeButton(s, reload)) : null,
  );
}

async function render() {
  const reload = async () => {
    const [requests, shares] = await Promise.all([api('GET', '/api/v1/profile/requests?limit=100'), api('GET', '/api/v1/profile/shares?limit=100')]);
    document.getElementById('request-list').replaceChildren(...requests.requests.map((r) => requestCard(r, reload)));
    document.getElementById('no-requests').hidden = requests.requests.length > 0;
    document.getElementById('share-list').replaceChildren(...shares.shares.map((s) => shareCard(s, reload)));
    document.getElementById('no-shares').hidden = shares.shares.length > 0;
  };
  await reload();
  loaded();
}

boot(render);
