/** Series colours, all theme variables so charts follow light and dark mode. */
export const palette = [
  'var(--color-chart-1)',
  'var(--color-chart-2)',
  'var(--color-chart-3)',
  'var(--color-warning)',
  'var(--color-success)',
  'var(--color-danger)',
  'oklch(0.62 0.14 240)',
  'oklch(0.66 0.15 140)',
  'oklch(0.64 0.17 30)',
  'oklch(0.6 0.12 300)',
] as const;

export function colourAt(index: number): string {
  return palette[index % palette.length] as string;
}
