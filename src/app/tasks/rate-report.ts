// The report's rate section of a --target-bits run, shared by the tasks that train with a target.
import type { RateReport, RunReport } from '../../report/index.js';
import type { RateTarget } from '../../train/rate-target.js';

/** The report's rate section: the outcome against the final test-set measurement of each site. */
export function rateReport(rate: RateTarget, report: RunReport, restoredEpoch: number | null): RateReport {
  const byName = new Map(report.layers.map((l) => [l.name, l]));
  const sites = rate.sites.map((n) => byName.get(n));
  const out = rate.outcome(sites.map((l) => l?.[rate.metric] ?? NaN), sites.map((l) => l?.numel ?? 0), restoredEpoch);
  return {
    metric: out.metric, reached: out.reached, message: out.message, bestEpoch: out.bestEpoch, trajectory: [...out.trajectory],
    groups: out.groups.map((g) => ({ ...g, sites: g.sites.map((i) => out.siteNames[i]!) })),
  };
}
