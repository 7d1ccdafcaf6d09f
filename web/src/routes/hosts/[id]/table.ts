/** Shared looks of the section tables on the host page. */
export const th = 'px-3 py-2 text-left text-xs font-medium text-muted-foreground first:pl-5 last:pr-5';
export const thNum = 'px-3 py-2 text-right text-xs font-medium text-muted-foreground first:pl-5 last:pr-5';
export const td = 'px-3 py-2 first:pl-5 last:pr-5';
export const tdNum = 'px-3 py-2 text-right tabular-nums first:pl-5 last:pr-5';
export const table = 'w-full text-sm';
export const wrap = '-m-5 overflow-x-auto';
