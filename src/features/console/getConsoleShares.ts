/** The console page shares (src/features/console/page-shares.ts). */
import { consolePage } from './pages.ts';
import { sharesPage } from './page-shares.ts';

export const getConsoleShares = consolePage(sharesPage);
