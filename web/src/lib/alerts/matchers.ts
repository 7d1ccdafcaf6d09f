import type { LabelMatcher } from '@pulsewire/protocol';

/** Label matchers as editable rows (rules' series and event filters, silences, maintenance windows). */

export type MatchOp = LabelMatcher['op'];
export interface MatcherRow {
  name: string;
  op: MatchOp;
  value: string;
}

export const matchOpLabel: Record<MatchOp, string> = {
  '=': 'is',
  '!=': 'is not',
  '=~': 'matches',
  '!~': 'does not match',
};

export function rowsOf(matchers: readonly LabelMatcher[]): MatcherRow[] {
  return matchers.map((m) => ({ name: m.name, op: m.op, value: m.value }));
}

/** Matcher rows as matchers; rows left entirely empty are dropped (a fresh "add" the user did not fill). */
export function matchersOf(rows: readonly MatcherRow[]): LabelMatcher[] {
  return rows
    .filter((r) => r.name.trim() !== '' || r.value !== '')
    .map((r) => ({ name: r.name.trim(), op: r.op, value: r.value }));
}

/** `mount="/", iface=~"eth.*"`: matchers as one line of text. */
export function formatMatchers(matchers: readonly LabelMatcher[]): string {
  return matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(', ');
}

/**
 * Index of each row among the rows that are sent (empty rows are dropped before validation), so an
 * error at `matchers.1.value` is shown on the right row; -1 for a row that is not sent.
 */
export function sentIndexes(rows: readonly MatcherRow[]): number[] {
  let next = 0;
  return rows.map((r) => (r.name.trim() !== '' || r.value !== '' ? next++ : -1));
}
