import { api, boot, onSubmit, setStatus, t } from './console.js';

boot(() => {
  onSubmit('forgot', async (data) => {
    await api('POST', '/api/v1/auth/forgot-password', { json: { email: String(data.get('email') ?? '') } });
    setStatus(t('forgot.sent'));
  });
});
