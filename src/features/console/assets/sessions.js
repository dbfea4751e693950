import { ApiError, api, boot, confirmStep, formatTime, h, loaded, t } from './console.js';

function deviceCard(session, reload) {
  const what =
    session.kind === 'api'
      ? t('sessions.kind_api', { address: session.client_ip ?? t('sessions.unknownAddress') })
      : t('sessions.kind_browser', { services: session.services.join(', ') || t('common.none') });
  const end = h('button', { type: 'button', class: 'secondary' }, t('sessions.end', { what }));
  end.addEventListener('click', () =>
    confirmStep(end, {
      title: t('sessions.confirmEndTitle', { what }),
      text: t('sessions.confirmEndText'),
      yes: t('sessions.confirmEnd'),
      work: async () => {
        await api('DELETE', `/api/v1/auth/sessions/${encodeURIComponent(session.session_id)}`);
        await reload();
      },
      done: t('sessions.endedOne'),
    }),
  );
  return h(
    'section',
    { class: 'card', 'data-session': session.session_id, 'aria-label': session.current ? t('sessions.thisBrowser') : what },
    h('h3', {}, session.current ? `${t('sessions.thisBrowser')} · ${what}` : what),
    h(
      'dl',
      {},
      h('dt', {}, t('sessions.started')),
      h('dd', {}, formatTime(session.started_at)),
      h('dt', {}, t('sessions.lastActive')),
      h('dd', {}, session.last_active_at ? formatTime(session.last_active_at) : t('common.none')),
      h('dt', {}, t('sessions.method')),
      h('dd', {}, session.auth_method ?? t('common.none')),
    ),
    // This browser signs out with the buttons above (its cookie goes too).
    session.current ? null : end,
  );
}

function passkeyCard(passkey, reload) {
  const vars = { name: passkey.name };
  const remove = h('button', { type: 'button', class: 'danger' }, t('sessions.removePasskey', vars));
  remove.addEventListener('click', () =>
    confirmStep(remove, {
      title: t('sessions.confirmPasskeyTitle', vars),
      text: t('sessions.confirmPasskeyText'),
      yes: t('sessions.confirmRemove'),
      work: async () => {
        await api('DELETE', `/api/v1/profile/passkeys/${encodeURIComponent(passkey.passkey_id)}`);
        await reload();
      },
      done: t('sessions.passkeyRemoved', vars),
    }),
  );
  return h(
    'section',
    { class: 'card', 'data-passkey': passkey.passkey_id, 'aria-label': passkey.name },
    h('h3', {}, passkey.name),
    h(
      'dl',
      {},
      h('dt', {}, t('sessions.created')),
      h('dd', {}, formatTime(passkey.created_at)),
      h('dt', {}, t('sessions.lastUsed')),
      h('dd', {}, passkey.last_used_at ? formatTime(passkey.last_used_at) : t('sessions.never')),
    ),
    remove,
  );
}

async function render(me) {
  document.getElementById('session-who').textContent = `${me.handle} · ${me.email}`;
  document.getElementById('session-expires').textContent = formatTime(me.session.expires_at);
  document.getElementById('session').hidden = false;
  const reload = async () => {
    const { sessions, passkeys } = await api('GET', '/api/v1/auth/sessions');
    document.getElementById('device-list').replaceChildren(...sessions.map((s) => deviceCard(s, reload)));
    document.getElementById('passkey-list').replaceChildren(...passkeys.map((p) => passkeyCard(p, reload)));
    document.getElementById('no-passkeys').hidden = passkeys.length > 0;
  };
  await reload();
  loaded();
  const error = document.querySelector('main > .form-error');
  const end = (path) => async (event) => {
    event.currentTarget.disabled = true;
    event.currentTarget.setAttribute('aria-busy', 'true');
    try {
      await api('POST', path, { json: {} });
      location.assign('/account/sign-in');
    } catch (err) {
      event.target.disabled = false;
      if (err instanceof ApiError) error.textContent = err.message;
      else throw err;
    }
  };
  document.getElementById('logout').addEventListener('click', end('/api/v1/auth/logout'));
  document.getElementById('logout-all').addEventListener('click', end('/api/v1/auth/logout-all'));
}

boot(render);
