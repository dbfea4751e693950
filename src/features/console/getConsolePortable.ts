/** The console page portable (src/features/console/page-portable.ts). */
import { consolePage } from './pages.ts';
import { portablePage } from './page-portable.ts';

export const getConsolePortable = consolePage(portablePage);
