/** Shared looks of bits-ui dropdown menus (organisation switcher, user menu). */
export const menuContent =
  'z-50 min-w-56 rounded-lg border border-border bg-surface p-1 text-sm shadow-lg outline-none';
export const menuItem =
  'flex cursor-pointer items-center gap-2 rounded-md px-2 py-1.5 outline-none select-none data-highlighted:bg-muted [&_svg]:size-4 [&_svg]:shrink-0 [&_svg]:text-muted-foreground';
export const menuHeading = 'px-2 pt-1.5 pb-1 text-[11px] font-semibold tracking-wider text-muted-foreground uppercase';
export const menuSeparator = '-mx-1 my-1 h-px bg-border';
