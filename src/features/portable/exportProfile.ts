import type { Handler } from '../../deps.ts';

export const exportProfile: Handler = async () => {
  throw new Error('not yet');
};
