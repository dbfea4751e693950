import { api, boot, onSubmit } from './console.js';

boot(() => {
  onSubmit('sign-in', async (data) => {
    const login = String(data.get('login') ?? '');
    const body = { password: String(data.get('password') ?? ''), session: 'cookie' };
    if (login.includes('@')) body.email = login;
    else body.handle = login;
    await api('POST', '/api/v1/users/login', { json: body });
    const next = new URLSearchParams(location.search).get('next');
    location.assign(next && /^\/account(\/[a-z-]+)?$/.test(next) ? next : '/account');
  });
});
