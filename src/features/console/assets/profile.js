import { ApiError, api, boot, clearErrors, h, loaded, setStatus, showError, t, whileBusy } from './console.js';

/** Fields whose values are objects or lists, edited as JSON. */
const JSON_TYPES = new Set(['address', 'contact', 'list']);
const NOT_EDITABLE = new Set(['avatar']);

function display(value) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, t('profile.unset'));
  if (typeof value === 'object') return h('code', {}, JSON.stringify(value));
  return String(value);
}

function provenance(view) {
  if (view.derived_from) return `${t('profile.derived')} ${view.derived_from}`;
  return view.provenance ?? '—';
}

function editor(name, view, cell, refresh) {
  const asJson = JSON_TYPES.has(view.type) || (view.value !== null && typeof view.value === 'object');
  const id = `edit-${name}`;
  const current = view.value === null || view.value === undefined ? '' : asJson ? JSON.stringify(view.value, null, 2) : String(view.value);
  const input = asJson
    ? h('textarea', { id, name, rows: 5, 'data-path': `updated_fields.${name}`, 'aria-describedby': `${id}-hint ${id}-error` }, current)
    : h('input', { id, name, type: 'text', value: current, 'data-path': `updated_fields.${name}`, 'aria-describedby': `${id}-error` });
  const password =
    name === 'email'
      ? h(
          'div',
          { class: 'field' },
          h('label', { for: `${id}-password` }, t('profile.currentPassword')),
          h('input', {
            id: `${id}-password`,
            type: 'password',
            autocomplete: 'current-password',
            'data-path': 'current_password',
            'aria-describedby': `${id}-password-error`,
          }),
          h('p', { class: 'field-error', id: `${id}-password-error` }),
        )
      : null;
  const form = h(
    'form',
    { novalidate: true },
    h('p', { class: 'form-error', role: 'alert' }),
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, t('profile.editField', { field: name })),
      asJson ? h('p', { class: 'hint', id: `${id}-hint` }, t('profile.jsonHint')) : null,
      input,
      h('p', { class: 'field-error', id: `${id}-error` }),
    ),
    password,
    h('button', { type: 'submit' }, t('common.save')),
    h('button', { type: 'button', class: 'secondary', onclick: () => refresh() }, t('common.cancel')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    let value = input.value;
    if (asJson) {
      try {
        value = value.trim() === '' ? null : JSON.parse(value);
      } catch {
        showError(form, new ApiError(400, { status: `${name} ${t('profile.badJson')}`, details: [{ path: `updated_fields.${name}`, message: t('profile.badJson') }] }));
        return;
      }
    } else if (value === '') value = null;
    const body = { updated_fields: { [name]: value } };
    if (password) body.current_password = password.querySelector('input').value;
    const done = await whileBusy(form, () => api('PUT', '/api/v1/profile/update-info', { json: body }));
    if (done) {
      setStatus(done.email_change_pending ? t('profile.pending') : t('common.saved'));
      await refresh();
    }
  });
  cell.replaceChildren(form);
  input.focus();
}

async function render(me) {
  document.getElementById('unverified').hidden = me.email_verified;
  const table = document.getElementById('fields');
  const body = table.querySelector('tbody');
  const refresh = async () => {
    const profile = await api('GET', '/api/v1/profile');
    body.replaceChildren(
      ...Object.entries(profile.fields).map(([name, view]) => {
        const valueCell = h('td', {}, display(view.value));
        if (!view.derived_from && !NOT_EDITABLE.has(name)) {
          valueCell.append(
            ' ',
            h(
              'button',
              { type: 'button', class: 'secondary small', 'aria-label': t('profile.editField', { field: name }), onclick: () => editor(name, view, valueCell, refresh) },
              t('common.edit'),
            ),
          );
        }
        valueCell.dataset.label = t('profile.value');
        return h(
          'tr',
          { 'data-field': name },
          h('th', { scope: 'row' }, name),
          valueCell,
          h('td', { 'data-label': t('profile.ring') }, view.ring),
          h('td', { 'data-label': t('profile.provenance') }, provenance(view)),
        );
      }),
    );
    loaded();
    table.hidden = false;
  };
  await refresh();
}

boot(render);
