/** The console page verify (src/features/console/page-verify.ts). */
import { consolePage } from './pages.ts';
import { verifyPage } from './page-verify.ts';

export const getConsoleVerifyEmail = consolePage(verifyPage);
