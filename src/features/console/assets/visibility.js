import { api, boot, h, loaded, t } from './console.js';

function readerTitle(reader, names) {
  if (reader === 'public') return t('visibility.public');
  if (reader.startsWith('role:')) return t('visibility.role', { role: reader.slice(5) });
  const id = reader.slice('service:'.length);
  return t('visibility.service', { name: names.get(id) ?? id });
}

async function render() {
  const [visibility, access] = await Promise.all([api('GET', '/api/v1/profile/visibility'), api('GET', '/api/v1/profile/access')]);
  const names = new Map(access.services.map((s) => [s.service_id, s.name]));
  document.getElementById('readers').replaceChildren(
    ...visibility.readers.map((r, i) =>
      h(
        'section',
        { class: 'card', 'data-reader': r.reader, 'aria-labelledby': `reader-${i}` },
        h('h2', { id: `reader-${i}` }, readerTitle(r.reader, names)),
        h('h3', {}, t('visibility.sees')),
        r.fields.length ? h('ul', { class: 'tags', 'data-list': 'sees' }, r.fields.map((f) => h('li', { 'data-field': f }, f))) : h('p', {}, t('common.none')),
        h(
          'details',
          { open: r.reader.startsWith('service:') },
          h('summary', {}, `${t('visibility.withheld')} (${r.withheld.length})`),
          h(
          'div',
          { class: 'table-wrap', tabindex: 0 },
          h(
            'table',
            { 'data-list': 'withheld', class: 'stack' },
            h('caption', { class: 'visually-hidden' }, `${readerTitle(r.reader, names)} — ${t('visibility.withheld')}`),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('profile.field')), h('th', { scope: 'col' }, t('visibility.layer')), h('th', { scope: 'col' }, t('visibility.why')))),
            h(
              'tbody',
              {},
              r.withheld.map((w) =>
                h(
                  'tr',
                  { 'data-field': w.field },
                  h('th', { scope: 'row' }, w.field),
                  h('td', { 'data-label': t('visibility.layer') }, w.layer),
                  h('td', {}, w.reason),
                ),
              ),
            ),
          ),
          ),
        ),
      ),
    ),
  );
  document.getElementById('revision').textContent = `${t('visibility.revision')}: ${visibility.policy_revision.slice(0, 12)} · rings v${visibility.rings_version}`;
  loaded();
}

boot(render);
