import { ApiError, api, boot, confirmStep, formatTime, h, loaded, onSubmit, setStatus, showError, t } from './console.js';

let current;

function checkItem(check) {
  const verdict = check.passed === true ? 'passed' : check.passed === false ? 'failed' : 'unknown';
  return h('li', { 'data-check': check.check, 'data-verdict': verdict }, h('strong', {}, `${check.check}: ${t(`credentials.${verdict}`)}`), ' — ', check.message);
}

function shown(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The review of a pending credential: what was read, its checks, and a form to confirm (with corrections) or reject. */
function review(credential, reload) {
  current = credential;
  const section = document.getElementById('review');
  document.getElementById('authenticity').textContent = `${t('credentials.notProven')} ${credential.authenticity?.message ?? ''}`.trim();
  document.getElementById('review-checks').replaceChildren(...credential.checks.map(checkItem));
  const form = document.getElementById('confirm');
  const fields = Object.entries(credential.proposed_fields ?? {});
  document.getElementById('confirm-fields').replaceChildren(
    ...fields.map(([field, value]) => {
      const id = `confirm-${field}`;
      return h(
        'fieldset',
        { class: 'field', 'data-field': field },
        h('legend', {}, field),
        h('label', {}, h('input', { type: 'checkbox', name: 'fields', value: field, checked: true, 'data-path': 'fields' }), ' ', t('credentials.use', { field })),
        h('label', { for: id }, t('credentials.valueFor', { field })),
        h('input', { id, name: `value-${field}`, type: 'text', value: shown(value), 'data-original': shown(value), 'data-path': `corrections.${field}`, 'aria-describedby': `${id}-error` }),
        h('p', { class: 'field-error', id: `${id}-error` }),
      );
    }),
  );
  form.querySelector('button[type="submit"]').disabled = !credential.confirmable;
  form.querySelector('.form-error').textContent = credential.confirmable ? '' : t('credentials.notConfirmable');
  section.hidden = false;
  document.getElementById('review-title').focus();
  document.getElementById('reject').onclick = async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    setStatus(t('common.saving'));
    try {
      await api('POST', `/api/v1/profile/credentials/${credential.credential_id}/reject`);
      section.hidden = true;
      await reload();
      setStatus(t('credentials.rejected'));
    } catch (err) {
      setStatus('');
      if (err instanceof ApiError) showError(form, err);
      else throw err;
    } finally {
      button.disabled = false;
    }
  };
}

function confirmBody(form) {
  const fields = [...form.querySelectorAll('input[name="fields"]:checked')].map((c) => c.value);
  const corrections = {};
  for (const input of form.querySelectorAll('input[data-original]')) {
    const field = input.name.slice('value-'.length);
    if (!fields.includes(field) || input.value === input.dataset.original) continue;
    let value = input.value;
    if (field === 'home_address') {
      try {
        value = JSON.parse(input.value);
      } catch {
        throw new ApiError(400, { status: t('common.error'), details: [{ path: `corrections.${field}`, message: 'is not valid JSON' }] });
      }
    }
    corrections[field] = value;
  }
  return Object.keys(corrections).length ? { fields, corrections } : { fields };
}

function card(credential, reload) {
  const actions = [];
  if (credential.state === 'pending_confirmation') {
    actions.push(
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            try {
              review(await api('GET', `/api/v1/profile/credentials/${credential.credential_id}`), reload);
            } catch (err) {
              if (err instanceof ApiError) setStatus(err.message);
              else throw err;
            }
          },
        },
        t('credentials.review', { label: credential.label }),
      ),
    );
  }
  if (credential.state !== 'rejected') {
    actions.push(
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            try {
              // Fetched with the CSRF header (an <img src> could not send it), shown as a data URL (img-src 'self' data:).
              const blob = await api('GET', `/api/v1/profile/credentials/${credential.credential_id}/image`, { blob: true });
              const url = await new Promise((resolve) => {
                const reader = new FileReader();
                reader.onload = () => resolve(reader.result);
                reader.readAsDataURL(blob);
              });
              button.replaceWith(h('img', { src: url, alt: t('credentials.photo', { label: credential.label }), class: 'photo', width: 320 }));
            } catch (err) {
              button.disabled = false;
              setStatus(err instanceof ApiError ? err.message : '');
              if (!(err instanceof ApiError)) throw err;
            }
          },
        },
        t('credentials.showPhoto', { label: credential.label }),
      ),
    );
  }
  const verified = credential.applied_fields.filter((f) => f.provenance.startsWith('credential:')).map((f) => f.field);
  const remove = h('button', { type: 'button', class: 'danger' }, t('credentials.delete', { label: credential.label }));
  remove.addEventListener('click', () =>
    confirmStep(remove, {
      title: t('credentials.confirmTitle', { label: credential.label }),
      text: verified.length ? t('credentials.confirmText') : t('credentials.confirmTextNone'),
      items: verified.length ? verified : undefined,
      yes: t('credentials.confirmDelete'),
      work: async () => {
        const res = await api('DELETE', `/api/v1/profile/credentials/${credential.credential_id}`);
        await reload();
        return res;
      },
      done: (res) => t('credentials.deleted', { fields: res.unverified_fields.join(', ') || t('common.none') }),
    }),
  );
  actions.push(remove);
  return h(
    'section',
    { class: 'card', 'data-credential': credential.credential_id, 'aria-label': credential.label },
    h('h3', {}, credential.label),
    h(
      'dl',
      {},
      h('dt', {}, t('credentials.state')),
      h('dd', { 'data-state': credential.state }, t(`credentials.state_${credential.state}`)),
      h('dt', {}, t('credentials.issuer')),
      h('dd', {}, credential.issuer?.name ?? credential.issuer?.iin ?? t('common.none')),
      h('dt', {}, t('credentials.expires')),
      h('dd', {}, credential.expiry_date ?? t('common.none')),
      h('dt', {}, t('credentials.added')),
      h('dd', {}, formatTime(credential.created_at)),
      h('dt', {}, t('credentials.verifies')),
      h('dd', {}, verified.length ? verified.join(', ') : t('common.none')),
    ),
    h('p', {}, ...actions.flatMap((a) => [a, ' '])),
  );
}

async function render() {
  const select = document.getElementById('upload-type');
  const types = await api('GET', '/api/v1/credential-types');
  select.replaceChildren(...types.credential_types.map((ct) => h('option', { value: ct.code }, ct.label)));

  const reload = async () => {
    const page = await api('GET', '/api/v1/profile/credentials?limit=100');
    document.getElementById('credential-list').replaceChildren(...page.credentials.map((c) => card(c, reload)));
    document.getElementById('no-credentials').hidden = page.credentials.length > 0;
  };
  await reload();
  loaded();

  onSubmit('upload', async (data, form) => {
    setStatus(t('credentials.reading'));
    const body = new FormData();
    body.append('credential_type', String(data.get('credential_type') ?? ''));
    const file = data.get('credential_image');
    if (file instanceof File && file.size > 0) body.append('credential_image', file, file.name);
    const added = await api('POST', '/api/v1/profile/add-credential', { form: body });
    form.reset();
    setStatus('');
    await reload();
    review(added, reload);
  });

  onSubmit('confirm', async (_data, form) => {
    const body = confirmBody(form);
    const res = await api('POST', `/api/v1/profile/credentials/${current.credential_id}/confirm`, { json: body });
    document.getElementById('review').hidden = true;
    await reload();
    setStatus(t('credentials.confirmed', { fields: res.fields.map((f) => `${f.field} (${f.provenance})`).join(', ') }));
  });
}

boot(render);
