/**
 * Many writers of the audit log (issue 21): every authorized read appends its disclosure to the audit log before the
 * data leaves. Reads of many different people at once against reads of one person at once, the same requests
 * otherwise (same service, same fields, 10 connections): where every disclosure of every person appends under one
 * lock, the two run alike; where each person has a chain of their own, many people append side by side while one
 * person's reads still queue behind each other — so the ratio says whether the append has a point shared by all.
 */
import { ratio } from '../lib/compare.ts';
import type { Scenario } from '../lib/scenario.ts';
import { dataApiRequests, dataApiSessions, DATA_PROFILE_PATH } from './authorized-read.ts';

export const auditWriters: Scenario = {
  name: 'audit-writers',
  title: 'Audit append with many writers (reads of many people vs of one person)',
  description: `GET ${DATA_PROFILE_PATH} for many different people at once vs for one person at once: each read appends a disclosure to the audit log before it answers.`,
  async run(ctx) {
    const env = await ctx.main();
    const sessions = await dataApiSessions(env, ctx.profile.spreadUsers);
    const results = await ctx.compare([
      {
        name: 'many-people',
        label: `reads of ${sessions.length} different people`,
        role: 'subject',
        target: env.service,
        requests: dataApiRequests(sessions),
      },
      { name: 'one-person', label: 'reads of one person', role: 'baseline', target: env.service, requests: dataApiRequests(sessions.slice(0, 1)) },
    ]);
    return {
      variants: results,
      ratios: [ratio(results, 'many-people', 'one-person')],
      notes: ['Both variants read the same fields through the same service; only whose profile (and so whose audit chain) differs.'],
    };
  },
};
