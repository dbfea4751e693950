/** The console page signUp (src/features/console/page-sign-up.ts). */
import { consolePage } from './pages.ts';
import { signUpPage } from './page-sign-up.ts';

export const getConsoleSignUp = consolePage(signUpPage);
