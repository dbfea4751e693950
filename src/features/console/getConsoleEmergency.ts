/** The console page emergency (src/features/console/page-emergency.ts). */
import { consolePage } from './pages.ts';
import { emergencyPage } from './page-emergency.ts';

export const getConsoleEmergency = consolePage(emergencyPage);
