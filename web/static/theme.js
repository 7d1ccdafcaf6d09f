// Apply the saved theme before first paint (same storage key and values as mode-watcher),
// so a dark-mode user does not see a white flash while the SPA boots.
(() => {
  try {
    const saved = localStorage.getItem('mode-watcher-mode');
    const dark = saved === 'dark' || (saved !== 'light' && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.classList.toggle('dark', dark);
    document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
  } catch {}
})();
