import { ApiError, api, boot, formatTime, h, loaded, onSubmit, setStatus, t } from './console.js';

/** The API's details with their path in front, so the FHIR path that failed shows next to the field. */
function withPaths(err) {
  if (err instanceof ApiError && Array.isArray(err.body?.details)) {
    err.body.details = err.body.details.map((d) => ({ ...d, message: `${d.path}: ${d.message}` }));
  }
  return err;
}

function recordCard(record, reload) {
  return h(
    'section',
    { class: 'card', 'data-record': record.record_id, 'aria-label': `${record.resource_type} ${record.record_id}` },
    h('h4', {}, record.resource_type),
    h(
      'dl',
      {},
      h('dt', {}, t('health.governedBy')),
      h('dd', {}, `${record.field} (${record.ring})`),
      h('dt', {}, t('health.updated')),
      h('dd', {}, formatTime(record.updated_at)),
    ),
    h('details', {}, h('summary', {}, t('health.showResource')), h('pre', {}, JSON.stringify(record.resource, null, 2))),
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            await api('DELETE', `/api/v1/profile/health-records/${record.record_id}`);
            await reload();
            setStatus(t('health.recordDeleted'));
          } catch (err) {
            setStatus(err instanceof ApiError ? err.message : '');
            if (!(err instanceof ApiError)) throw err;
          }
        },
      },
      t('health.deleteRecord', { type: record.resource_type }),
    ),
  );
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
    link.state === 'active'
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async (event) => {
              event.currentTarget.disabled = true;
              try {
                await api('DELETE', `/api/v1/profile/health-links/${link.link_id}`);
                await reload();
                setStatus(t('health.linkRevoked', { recipient: link.recipient }));
              } catch (err) {
                setStatus(err instanceof ApiError ? err.message : '');
                if (!(err instanceof ApiError)) throw err;
              }
            },
          },
          t('health.revokeLink', { recipient: link.recipient }),
        )
      : null,
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
    let resource;
    try {
      resource = JSON.parse(String(data.get('resource') ?? ''));
    } catch {
      throw new ApiError(400, { status: t('health.notJson'), details: [{ path: 'resourceType', message: t('health.notJson') }] });
    }
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
