/** The console page forgot (src/features/console/page-forgot.ts). */
import { consolePage } from './pages.ts';
import { forgotPage } from './page-forgot.ts';

export const getConsoleForgotPassword = consolePage(forgotPage);
