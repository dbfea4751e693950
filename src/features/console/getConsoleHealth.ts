/** The console page health (src/features/console/page-health.ts). */
import { consolePage } from './pages.ts';
import { healthPage } from './page-health.ts';

export const getConsoleHealth = consolePage(healthPage);
