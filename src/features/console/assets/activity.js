import { api, boot, formatTime, h, loaded, t } from './console.js';

async function render() {
  const table = document.getElementById('events');
  const body = table.querySelector('tbody');
  const more = document.getElementById('more');
  const kind = document.getElementById('kind');
  let cursor = null;
  const load = async (append) => {
    const query = new URLSearchParams({ limit: '20' });
    if (kind.value) query.set('kind', kind.value);
    if (append && cursor) query.set('cursor', cursor);
    more.setAttribute('aria-busy', 'true');
    const page = await api('GET', `/api/v1/profile/activity?${query}`);
    more.removeAttribute('aria-busy');
    const rows = page.events.map((e) =>
      h(
        'tr',
        { 'data-action': e.action },
        h('td', { 'data-label': t('activity.when') }, h('time', { datetime: e.at }, formatTime(e.at))),
        h('th', { scope: 'row' }, e.action),
        h('td', { 'data-label': t('activity.who') }, e.actor),
        h('td', { 'data-label': t('activity.details') }, h('code', {}, Object.keys(e.data).length ? JSON.stringify(e.data) : '')),
      ),
    );
    if (append) body.append(...rows);
    else body.replaceChildren(...rows);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const empty = body.children.length === 0;
    document.getElementById('empty').hidden = !empty;
    table.hidden = empty;
    loaded();
  };
  kind.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));
  await load(false);
}

boot(render);
