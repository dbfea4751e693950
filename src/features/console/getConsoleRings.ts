/** The console page rings (src/features/console/page-rings.ts). */
import { consolePage } from './pages.ts';
import { ringsPage } from './page-rings.ts';

export const getConsoleRings = consolePage(ringsPage);
