/**
 * The console's pages, in the order of the navigation. A page is one module ./page-<name>.ts (its path, whether it needs
 * a session, whether it is in the navigation, its static HTML), one section of ./catalogue.ts (named by its id), one
 * script ./assets/<id>.js, and one entry here; its operation in openapi.yaml (tag console) and its handler
 * `get<Console…>.ts` call `consolePage(<module>)`.
 */
import type { Handler } from '../../deps.ts';
import { renderConsolePage, type ConsolePage } from './page.ts';
import { activityPage } from './page-activity.ts';
import { credentialsPage } from './page-credentials.ts';
import { emergencyPage } from './page-emergency.ts';
import { forgotPage } from './page-forgot.ts';
import { healthPage } from './page-health.ts';
import { portablePage } from './page-portable.ts';
import { profilePage } from './page-profile.ts';
import { resetPage } from './page-reset.ts';
import { ringsPage } from './page-rings.ts';
import { servicesPage } from './page-services.ts';
import { sharesPage } from './page-shares.ts';
import { sessionsPage } from './page-sessions.ts';
import { signInPage } from './page-sign-in.ts';
import { signUpPage } from './page-sign-up.ts';
import { verifyPage } from './page-verify.ts';
import { visibilityPage } from './page-visibility.ts';

export const PAGES: readonly ConsolePage[] = [
  profilePage,
  ringsPage,
  visibilityPage,
  servicesPage,
  credentialsPage,
  healthPage,
  emergencyPage,
  sharesPage,
  portablePage,
  activityPage,
  sessionsPage,
  signInPage,
  signUpPage,
  verifyPage,
  forgotPage,
  resetPage,
];

/** The handler of a page's operation. */
export function consolePage(page: ConsolePage): Handler {
  return (input, deps) => renderConsolePage(input, deps, page, PAGES);
}
