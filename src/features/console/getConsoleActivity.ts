/** The console page activity (src/features/console/page-activity.ts). */
import { consolePage } from './pages.ts';
import { activityPage } from './page-activity.ts';

export const getConsoleActivity = consolePage(activityPage);
