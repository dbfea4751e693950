import { ApiError, api, boot, formatTime, loaded } from './console.js';

async function render(me) {
  document.getElementById('session-who').textContent = `${me.handle} · ${me.email}`;
  document.getElementById('session-expires').textContent = formatTime(me.session.expires_at);
  document.getElementById('session').hidden = false;
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
