import type { Handler } from '../../deps.ts';

export const importProfile: Handler = async () => {
  throw new Error('not yet');
};
