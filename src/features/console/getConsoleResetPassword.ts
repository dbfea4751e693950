/** The console page reset (src/features/console/page-reset.ts). */
import { consolePage } from './pages.ts';
import { resetPage } from './page-reset.ts';

export const getConsoleResetPassword = consolePage(resetPage);
