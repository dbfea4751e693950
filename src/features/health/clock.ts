/**
 * The health feature's clock: every expiry of a health link and of its codes is judged by it (in the SQL too, as a
 * parameter), so a test can move time past a link's expiration without waiting for it.
 */
export const healthClock = {
  /** Now, as the feature judges expiry. Tests replace it and put it back. */
  now: (): Date => new Date(),
};
