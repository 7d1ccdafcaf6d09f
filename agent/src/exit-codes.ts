/** Exit statuses, also named in the systemd unit's RestartPreventExitStatus. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad usage, config, flags or environment. */
export const EXIT_CONFIG = 2;
/** The server revoked this host: restarting cannot help. */
export const EXIT_REVOKED = 3;
