import { ApiError, api, boot, clearErrors, confirmStep, h, loaded, onSubmit, setStatus, showError, t, whileBusy } from './console.js';

const DEFAULT_ORDER = ['public', 'semi-private', 'private', 'restricted'];
const list = (text) =>
  String(text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function cappedText(capped) {
  if (!capped?.length) return '';
  return ` ${t('rings.capped')}${capped.map((c) => `${c.reader} (${c.field}): ${c.reason}`).join('; ')}`;
}

function placementRow(field, current, rings, reload) {
  const id = `ring-of-${field}`;
  const select = h(
    'select',
    { id, 'data-field': field, 'data-path': 'assigned_data.fields', 'aria-describedby': `${id}-error` },
    rings.map((r) => h('option', { value: r.name, selected: r.name === current.name }, r.kind === 'custom' ? `${r.name} (custom)` : r.name)),
  );
  const form = h('form', { novalidate: true }, h('p', { class: 'form-error', role: 'alert' }), select, h('p', { class: 'field-error', id: `${id}-error` }));
  select.addEventListener('change', async () => {
    clearErrors(form);
    const target = rings.find((r) => r.name === select.value);
    const done = await whileBusy(form, () =>
      target.kind === 'custom'
        ? api('PUT', `/api/v1/profile/privilege-rings/${encodeURIComponent(target.ring_id)}`, {
            json: { assigned_data: { fields: [...target.fields, field], roles: target.admits.roles, services: target.admits.services } },
          })
        : api('POST', '/api/v1/profile/privilege-rings', { json: { ring_name: target.name, assigned_data: { fields: [field] } } }),
    );
    if (done) {
      await reload();
      setStatus(t('rings.moved', { field, ring: target.name }) + cappedText(done.capped));
    }
  });
  return h('tr', { 'data-field': field }, h('th', { scope: 'row' }, h('label', { for: id }, field)), h('td', {}, form));
}

function ringField(prefix, name, label, value, path) {
  const id = `${prefix}-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name, type: 'text', value: value ?? '', 'data-path': path ?? name, 'aria-describedby': `${id}-error` }),
    h('p', { class: 'field-error', id: `${id}-error` }),
  );
}

function customRingCard(ring, reload) {
  const prefix = `ring-${ring.ring_id}`;
  const form = h(
    'form',
    { class: 'card', novalidate: true, 'aria-label': ring.name },
    h('h3', {}, ring.name),
    h('p', { class: 'form-error', role: 'alert' }),
    ringField(prefix, 'ring_name', t('rings.ringName'), ring.name),
    ringField(prefix, 'description', t('rings.description'), ring.description),
    ringField(prefix, 'fields', t('rings.fields'), ring.fields.join(', '), 'assigned_data.fields'),
    ringField(prefix, 'roles', t('rings.roles'), ring.admits.roles.join(', '), 'assigned_data.roles'),
    ringField(prefix, 'services', t('rings.services'), ring.admits.services.join(', '), 'assigned_data.services'),
    h('button', { type: 'submit' }, t('rings.update')),
    h('button', { type: 'button', class: 'danger', 'data-action': 'delete' }, t('rings.remove', { name: ring.name })),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const done = await whileBusy(form, () =>
      api('PUT', `/api/v1/profile/privilege-rings/${encodeURIComponent(ring.ring_id)}`, {
        json: {
          ring_name: String(data.get('ring_name')),
          description: String(data.get('description') ?? '') || null,
          assigned_data: { fields: list(data.get('fields')), roles: list(data.get('roles')), services: list(data.get('services')) },
        },
      }),
    );
    if (done) {
      await reload();
      setStatus(t('common.saved') + cappedText(done.capped));
    }
  });
  const remove = form.querySelector('[data-action="delete"]');
  remove.addEventListener('click', () =>
    confirmStep(remove, {
      title: t('rings.confirmTitle', { name: ring.name }),
      text: ring.fields.length ? t('rings.confirmText') : t('rings.confirmTextEmpty'),
      items: ring.fields.length ? ring.fields : undefined,
      yes: t('rings.confirm'),
      work: async () => {
        await api('DELETE', `/api/v1/profile/privilege-rings/${encodeURIComponent(ring.ring_id)}`);
        await reload();
      },
      done: t('rings.deleted', { name: ring.name }),
    }),
  );
  return form;
}

async function loadPolicy() {
  const yaml = await api('GET', '/api/v1/profile/privilege-rings/policy');
  document.getElementById('policy-yaml').value = yaml;
  const link = document.getElementById('download');
  if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
  link.dataset.url = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
  link.href = link.dataset.url;
}

async function render() {
  const table = document.getElementById('placements');
  const reload = async () => {
    const { rings } = await api('GET', '/api/v1/profile/privilege-rings');
    const ordered = [...rings].sort((a, b) => (a.kind === b.kind ? DEFAULT_ORDER.indexOf(a.name) - DEFAULT_ORDER.indexOf(b.name) : a.kind === 'default' ? -1 : 1));
    const rows = [];
    for (const ring of ordered) for (const field of ring.fields) rows.push([field, ring]);
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    table.querySelector('tbody').replaceChildren(...rows.map(([field, ring]) => placementRow(field, ring, ordered, reload)));
    const custom = ordered.filter((r) => r.kind === 'custom');
    document
      .getElementById('custom-rings')
      .replaceChildren(...(custom.length ? custom.map((r) => customRingCard(r, reload)) : [h('p', {}, t('rings.noCustom'))]));
    await loadPolicy();
    loaded();
    table.hidden = false;
  };
  await reload();

  onSubmit('new-ring', async (data, form) => {
    const done = await api('POST', '/api/v1/profile/privilege-rings', {
      json: {
        ring_name: String(data.get('ring_name') ?? ''),
        ...(data.get('description') ? { description: String(data.get('description')) } : {}),
        assigned_data: { fields: list(data.get('fields')), roles: list(data.get('roles')), services: list(data.get('services')) },
      },
    });
    form.reset();
    await reload();
    setStatus(t('common.saved') + cappedText(done.capped));
  });

  document.getElementById('policy-file').addEventListener('change', async (event) => {
    const file = event.target.files?.[0];
    if (file) document.getElementById('policy-yaml').value = await file.text();
  });
  const problems = document.getElementById('policy-problems');
  const policyForm = document.getElementById('policy');
  policyForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(policyForm);
    problems.replaceChildren();
    const yaml = document.getElementById('policy-yaml').value;
    try {
      const done = await whileBusy(policyForm, async () => {
        try {
          return await api('PUT', '/api/v1/profile/privilege-rings/policy', { yaml });
        } catch (err) {
          // Each problem names its line: listed under the file, the first one beside it.
          if (err instanceof ApiError) {
            problems.replaceChildren(...(err.body.details ?? []).map((d) => h('li', {}, `${d.path}: ${d.message}`)));
            const first = err.body.details?.[0];
            showError(policyForm, new ApiError(err.status, { ...err.body, details: first ? [{ path: 'yaml', message: `${first.path}: ${first.message}` }] : [] }));
            return undefined;
          }
          throw err;
        }
      });
      if (done) {
        await reload();
        setStatus(t('rings.uploaded') + cappedText(done.capped));
      } else setStatus('');
    } catch (err) {
      if (err instanceof ApiError) showError(policyForm, err);
    }
  });
}

boot(render);
