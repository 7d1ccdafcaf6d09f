/** Semantic colours shared by badges, status dots and banners. */
export type Tone = 'success' | 'warning' | 'danger' | 'neutral' | 'primary';

/** Background class of a filled bar (meters, per-core bars) in each tone. */
export const toneFill: Record<Tone, string> = {
  primary: 'bg-primary',
  warning: 'bg-warning',
  danger: 'bg-danger',
  success: 'bg-success',
  neutral: 'bg-muted-foreground',
};
