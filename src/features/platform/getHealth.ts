import type { Handler } from '../../deps.ts';

/** The process is alive and serving; says nothing about the database (that is readiness). */
export const getHealth: Handler = () => ({ uptime_seconds: Math.round(process.uptime()) });
