/**
 * The agent executables the Worker serves from R2, and where each is kept in the bucket: under the version
 * of the deployment that uploaded it, so each deployment serves the agent it was built with. Shared with
 * agent/scripts/publish-executables.ts, which uploads them (hence no Worker types in this module).
 */
export const EXECUTABLE_FILE = /^pulsewire-agent-linux-(x64|arm64)(\.sha256)?$/;

export const downloadKey = (file: string, version: string) => `agent/${version}/${file}`;
