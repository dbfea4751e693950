import { Reply, type Handler } from '../../deps.ts';
import { DOCS_PAGE } from './docs.ts';

export const getApiReference: Handler = () => new Reply(DOCS_PAGE, { type: 'text/html; charset=utf-8', headers: { 'Cache-Control': 'no-cache' } });
