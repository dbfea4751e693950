import type { Handler } from '../../deps.ts';

export const exportProfileWithPassphrase: Handler = async () => {
  throw new Error('not yet');
};
