import { ApiError, api, boot, confirmStep, formatTime, h, loaded, onSubmit, setStatus, t } from './console.js';

const list = (value) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function fill(form, setup) {
  const info = setup?.emergency_info ?? {};
  form.elements.blood_type.value = info.blood_type ?? '';
  form.elements.allergies.value = (info.allergies ?? []).join(', ');
  form.elements.medications.value = (info.medications ?? []).join(', ');
  form.elements.conditions.value = (info.conditions ?? []).join(', ');
  form.elements.profile_fields.value = (info.profile_fields ?? []).join(', ');
  form.elements.criteria.value = (setup?.criteria.conditions ?? []).join(', ');
  form.elements.access_minutes.value = String(setup?.criteria.access_minutes ?? 60);
  form.elements.trusted_contacts.value = (setup?.trusted_contacts ?? []).map((c) => c.email).join(', ');
  form.elements.public_text.value = setup?.public_text ?? '';
  document.getElementById('setup-state').textContent = setup ? t('emergency.savedAt', { at: formatTime(setup.updated_at) }) : t('emergency.notSet');
  document.getElementById('setup-delete').hidden = !setup;
  document.getElementById('card').hidden = !setup;
}

function body(data) {
  const info = {};
  if (data.get('blood_type')) info.blood_type = String(data.get('blood_type'));
  for (const key of ['allergies', 'medications', 'conditions', 'profile_fields']) {
    const items = list(data.get(key));
    if (items.length) info[key] = items;
  }
  const criteria = { conditions: list(data.get('criteria')) };
  const minutes = Number(data.get('access_minutes'));
  if (data.get('access_minutes') && Number.isFinite(minutes)) criteria.access_minutes = minutes;
  const out = { trusted_contacts: list(data.get('trusted_contacts')), emergency_info: info, criteria };
  if (data.get('public_text')) out.public_text = String(data.get('public_text'));
  return out;
}

/**
 * The card, fetched with the session's CSRF header (an <img src> or a plain link could not send it): the PNG shown
 * as a data URL (img-src 'self' data:) and offered for download, the PDF offered as a blob URL of this page.
 */
async function showCard() {
  const [png, pdf] = await Promise.all([
    api('GET', '/api/v1/profile/emergency-access/card?format=png', { blob: true }),
    api('GET', '/api/v1/profile/emergency-access/card?format=pdf', { blob: true }),
  ]);
  const url = await new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.readAsDataURL(png);
  });
  document.getElementById('card-image').src = url;
  document.getElementById('card-png').href = url;
  const link = document.getElementById('card-pdf');
  if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
  link.dataset.url = URL.createObjectURL(pdf);
  link.href = link.dataset.url;
}

function entry(e, reload) {
  const act = (label, path, json, done) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            await api('POST', path, json ? { json } : {});
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
  const who = e.responder_name ?? e.responder_id ?? t('common.none');
  return h(
    'section',
    { class: 'card', 'data-access': e.access_log_id, 'aria-label': who },
    h('h3', {}, who),
    h(
      'dl',
      {},
      h('dt', {}, t('emergency.openedBy')),
      h('dd', {}, `${t(`emergency.by_${e.opened_by}`)}${e.organisation ? ` · ${e.organisation}` : ''}`),
      h('dt', {}, t('emergency.reason')),
      h('dd', {}, `${e.reason} (${e.criterion})`),
      h('dt', {}, t('emergency.released')),
      h('dd', {}, e.fields.join(', ') || t('common.none')),
      h('dt', {}, t('emergency.when')),
      h('dd', {}, `${formatTime(e.opened_at)} – ${formatTime(e.ended_at ?? e.expires_at)}`),
      h('dt', {}, t('emergency.state')),
      h('dd', { 'data-state': e.state }, t(`emergency.state_${e.state}`)),
      h('dt', {}, t('emergency.flag')),
      h('dd', { 'data-flagged': String(Boolean(e.flagged_at)) }, e.flagged_at ? formatTime(e.flagged_at) : t('common.none')),
    ),
    h(
      'p',
      {},
      e.state === 'open' ? act(t('emergency.end', { who }), `/api/v1/profile/emergency-access/log/${e.access_log_id}/end`, null, t('emergency.ended')) : null,
      ' ',
      e.flagged_at ? null : act(t('emergency.flagIt', { who }), `/api/v1/profile/emergency-access/log/${e.access_log_id}/flag`, {}, t('emergency.flagged')),
    ),
  );
}

async function render() {
  const form = document.getElementById('setup');
  let setup;
  const reload = async () => {
    try {
      setup = await api('GET', '/api/v1/profile/emergency-access');
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      setup = undefined;
    }
    fill(form, setup);
    if (setup) await showCard();
    const log = await api('GET', '/api/v1/profile/emergency-access/log?limit=100');
    document.getElementById('log-list').replaceChildren(...log.entries.map((e) => entry(e, reload)));
    document.getElementById('no-log').hidden = log.entries.length > 0;
  };
  await reload();
  loaded();

  onSubmit('setup', async (data) => {
    await api(setup ? 'PUT' : 'POST', '/api/v1/profile/emergency-access', { json: body(data) });
    await reload();
    setStatus(t('common.saved'));
  });
  const remove = document.getElementById('setup-delete');
  remove.addEventListener('click', () =>
    confirmStep(remove, {
      title: t('emergency.confirmTitle'),
      text: t('emergency.confirmText'),
      yes: t('emergency.confirmDelete'),
      work: async () => {
        await api('DELETE', '/api/v1/profile/emergency-access');
        await reload();
      },
      done: t('emergency.deleted'),
    }),
  );
}

boot(render);
