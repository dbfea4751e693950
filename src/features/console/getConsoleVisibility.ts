/** The console page visibility (src/features/console/page-visibility.ts). */
import { consolePage } from './pages.ts';
import { visibilityPage } from './page-visibility.ts';

export const getConsoleVisibility = consolePage(visibilityPage);
