import { api, boot, onSubmit } from './console.js';

boot(() => {
  onSubmit('sign-up', async (data) => {
    const body = { session: 'cookie' };
    for (const name of ['name', 'email', 'handle', 'password']) body[name] = String(data.get(name) ?? '');
    await api('POST', '/api/v1/users/register', { json: body });
    location.assign('/account/verify-email');
  });
});
