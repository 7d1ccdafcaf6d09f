/** Semantic colours shared by badges, status dots and banners. */
export type Tone = 'success' | 'warning' | 'danger' | 'neutral' | 'primary';
