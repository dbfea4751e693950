/** The console page signIn (src/features/console/page-sign-in.ts). */
import { consolePage } from './pages.ts';
import { signInPage } from './page-sign-in.ts';

export const getConsoleSignIn = consolePage(signInPage);
