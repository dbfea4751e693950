/** The console page sessions (src/features/console/page-sessions.ts). */
import { consolePage } from './pages.ts';
import { sessionsPage } from './page-sessions.ts';

export const getConsoleSessions = consolePage(sessionsPage);
