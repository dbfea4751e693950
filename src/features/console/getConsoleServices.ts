/** The console page services (src/features/console/page-services.ts). */
import { consolePage } from './pages.ts';
import { servicesPage } from './page-services.ts';

export const getConsoleServices = consolePage(servicesPage);
