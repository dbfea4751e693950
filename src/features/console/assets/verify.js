import { ApiError, api, boot, h, onSubmit, setStatus, t } from './console.js';

boot(() => {
  onSubmit('verify', async (data) => {
    await api('POST', '/api/v1/auth/verify-email', { json: { code: String(data.get('code') ?? '').trim() } });
    setStatus(t('verify.done'));
    document.getElementById('rf-status').append(' ', h('a', { href: '/account' }, t('nav.profile')));
  });
  onSubmit('resend', async () => {
    try {
      await api('POST', '/api/v1/auth/verify-email/resend', { json: {} });
      setStatus(t('verify.resent'));
    } catch (err) {
      if (err instanceof ApiError && err.body?.error === 'already_verified') setStatus(t('verify.already'));
      else throw err;
    }
  });
});
