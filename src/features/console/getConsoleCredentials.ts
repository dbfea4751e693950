/** The console page credentials (src/features/console/page-credentials.ts). */
import { consolePage } from './pages.ts';
import { credentialsPage } from './page-credentials.ts';

export const getConsoleCredentials = consolePage(credentialsPage);
