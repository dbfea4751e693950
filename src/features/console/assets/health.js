import { ApiError, api, boot, clearErrors, confirmStep, formatTime, h, loaded, onSubmit, setStatus, t, whileBusy } from './console.js';

/** The API's details with their path in front, so the FHIR path that failed shows next to the field. */
function withPaths(err) {
  if (err instanceof ApiError && Array.isArray(err.body?.details)) {
    err.body.details = err.body.details.map((d) => ({ ...d, message: `${d.path}: ${d.message}` }));
  }
  return err;
}

/** A resource typed into a textarea: JSON, or an error shown next to it. */
function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, { status: t('health.notJson'), details: [{ path: 'resourceType', message: t('health.notJson') }] });
  }
}

/** The record replaced in place (PUT): its JSON in a textarea, each failing FHIR path shown next to it. */
function editForm(record, card, reload) {
  const id = `edit-${record.record_id}-resource`;
  const form = h(
    'form',
    { class: 'edit', novalidate: true, 'aria-label': t('health.editTitle', { type: record.resource_type }) },
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, t('health.editResource', { type: record.resource_type })),
      h('p', { class: 'hint', id: `${id}-hint` }, t('health.editHint')),
      h('textarea', {
        id,
        name: 'resource',
        rows: 10,
        spellcheck: 'false',
        // The paths the API names for a resource (resourceType, Immunization.…), as the page's own form has them.
        'data-path': document.getElementById('new-record-resource').dataset.path,
        'aria-describedby': `${id}-hint ${id}-error`,
        required: true,
      }),
      h('p', { class: 'field-error', id: `${id}-error` }),
    ),
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit' }, t('health.saveRecord')),
    ' ',
    h('button', { type: 'button', class: 'secondary', 'data-action': 'cancel' }, t('common.cancel')),
  );
  form.querySelector('textarea').value = JSON.stringify(record.resource, null, 2);
  const close = () => {
    form.remove();
    card.querySelector('[data-action="edit"]').hidden = false;
    card.querySelector('[data-action="edit"]').focus();
  };
  form.querySelector('[data-action="cancel"]').addEventListener('click', close);
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const done = await whileBusy(form, async () => {
      const resource = parsed(form.querySelector('textarea').value);
      try {
        return await api('PUT', `/api/v1/profile/health-records/${record.record_id}`, { json: resource });
      } catch (err) {
        throw withPaths(err);
      }
    });
    if (done) {
      await reload();
      setStatus(t('health.recordSaved', { type: record.resource_type, version: done.record.version }));
      document.querySelector(`[data-record="${record.record_id}"] [data-action="edit"]`)?.focus();
    }
  });
  return form;
}

function recordCard(record, reload) {
  const edit = h('button', { type: 'button', 'data-action': 'edit' }, t('health.editRecord', { type: record.resource_type }));
  const remove = h('button', { type: 'button', class: 'danger' }, t('health.deleteRecord', { type: record.resource_type }));
  const card = h(
    'section',
    { class: 'card', 'data-record': record.record_id, 'aria-label': `${record.resource_type} ${record.record_id}` },
    h('h4', {}, record.resource_type),
    h(
      'dl',
      {},
      h('dt', {}, t('health.governedBy')),
      h('dd', {}, `${record.field} (${record.ring})`),
      h('dt', {}, t('health.version')),
      h('dd', { 'data-version': record.version }, String(record.version)),
      h('dt', {}, t('health.updated')),
      h('dd', {}, formatTime(record.updated_at)),
    ),
    h('details', {}, h('summary', {}, t('health.showResource')), h('pre', {}, JSON.stringify(record.resource, null, 2))),
    h('p', {}, edit, ' ', remove),
  );
  edit.addEventListener('click', () => {
    edit.hidden = true;
    const form = editForm(record, card, reload);
    card.append(form);
    form.querySelector('textarea').focus();
  });
  remove.addEventListener('click', () =>
    confirmStep(remove, {
      title: t('health.confirmRecordTitle', { type: record.resource_type }),
      text: t('health.confirmRecordText'),
      yes: t('health.confirmDelete'),
      work: async () => {
        await api('DELETE', `/api/v1/profile/health-records/${record.record_id}`);
        await reload();
      },
      done: t('health.recordDeleted'),
    }),
  );
  return card;
}

function revokeButton(link, reload) {
  const vars = { recipient: link.recipient };
  const button = h('button', { type: 'button', class: 'danger' }, t('health.revokeLink', vars));
  button.addEventListener('click', () =>
    confirmStep(button, {
      title: t('health.confirmLinkTitle', vars),
      text: t('health.confirmLinkText', vars),
      yes: t('health.confirmRevoke'),
      work: async () => {
        await api('DELETE', `/api/v1/profile/health-links/${link.link_id}`);
        await reload();
      },
      done: t('health.linkRevoked', vars),
    }),
  );
  return button;
}

function linkCard(link, reload) {
  const items = [
    h('dt', {}, t('health.state')),
    h('dd', { 'data-state': link.state }, t(`health.state_${link.state}`)),
    h('dt', {}, t('health.types')),
    h('dd', {}, link.record_types.join(', ') || t('common.none')),
    h('dt', {}, t('health.expires')),
    h('dd', {}, formatTime(link.expires_at)),
    h('dt', {}, t('health.accesses')),
    h('dd', {}, String(link.accesses)),
  ];
  return h(
    'section',
    { class: 'card', 'data-link': link.link_id, 'aria-label': link.recipient },
    h('h4', {}, link.recipient),
    h('dl', {}, ...items),
    link.state === 'active' ? h('p', {}, revokeButton(link, reload))       : null,
  );
}

async function render() {
  const reload = async () => {
    const [records, links] = await Promise.all([api('GET', '/api/v1/profile/health-records?limit=100'), api('GET', '/api/v1/profile/health-links')]);
    document.getElementById('record-list').replaceChildren(...records.records.map((r) => recordCard(r, reload)));
    document.getElementById('no-records').hidden = records.records.length > 0;
    document.getElementById('link-list').replaceChildren(...links.links.map((l) => linkCard(l, reload)));
    document.getElementById('no-links').hidden = links.links.length > 0;
  };
  await reload();
  loaded();

  onSubmit('new-record', async (data, form) => {
    const resource = parsed(String(data.get('resource') ?? ''));
    try {
      await api('POST', '/api/v1/profile/health-records', { json: resource });
    } catch (err) {
      throw withPaths(err);
    }
    form.reset();
    await reload();
    setStatus(t('health.recordAdded'));
  });

  onSubmit('new-link', async (data) => {
    const body = { health_records_info: { types: data.getAll('types').map(String) }, doctor_email: String(data.get('doctor_email') ?? '') };
    const expiry = String(data.get('expiration_date') ?? '');
    if (expiry) body.expiration_date = expiry;
    let made;
    try {
      made = await api('POST', '/api/v1/profile/share-create-link', { json: body });
    } catch (err) {
      throw withPaths(err);
    }
    document.getElementById('link-url').textContent = made.access_link;
    document.getElementById('link-made').hidden = false;
    await reload();
    setStatus(t('health.linkCreated'));
  });
}

boot(render);
