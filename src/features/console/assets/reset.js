import { api, boot, onSubmit, setStatus, t } from './console.js';

boot(() => {
  onSubmit('reset', async (data, form) => {
    await api('POST', '/api/v1/auth/reset-password', {
      json: { token: String(data.get('token') ?? '').trim(), new_password: String(data.get('new_password') ?? '') },
    });
    form.reset();
    setStatus(t('reset.done'));
  });
});
