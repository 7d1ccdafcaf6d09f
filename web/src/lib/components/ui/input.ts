/** Looks of a native input or select, the same as TextField's. */
export const inputClass = (error?: string | null | undefined) => [
  'h-9 w-full min-w-0 rounded-md border bg-surface px-3 text-sm shadow-xs transition-colors outline-none',
  'placeholder:text-muted-foreground/70 disabled:cursor-not-allowed disabled:opacity-60',
  'focus-visible:ring-3 focus-visible:outline-none',
  error
    ? 'border-danger/70 focus-visible:border-danger focus-visible:ring-danger/20'
    : 'border-border focus-visible:border-ring focus-visible:ring-ring/20',
];
