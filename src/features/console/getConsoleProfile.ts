/** The console page profile (src/features/console/page-profile.ts). */
import { consolePage } from './pages.ts';
import { profilePage } from './page-profile.ts';

export const getConsoleProfile = consolePage(profilePage);
