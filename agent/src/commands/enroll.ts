import os from 'node:os';
import { type EnrollRequest, generateHostKeyPair, Labels, publicKeyFromPrivate } from '@pulsewire/protocol';
import { collectFacts, machineId } from '../collectors/facts.ts';
import { ConfigError, type ResolvedConfig } from '../config/load.ts';
import { writeConfigFile } from '../config/write.ts';
import { invocation } from '../entry.ts';
import { enrollHost } from '../transport/enroll.ts';
import { AGENT_VERSION } from '../version.ts';

export function parseLabels(pairs: readonly string[]): Labels {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--label ${pair}: use key=value`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const parsed = Labels.safeParse(labels);
  if (!parsed.success) throw new ConfigError(`--label: ${parsed.error.issues[0]?.message ?? 'invalid label'}`);
  return parsed.data;
}

/**
 * Registers this machine. An existing key pair and machine id are reused, so enrolling again (new API key,
 * new name, new labels) updates the same host instead of creating a second one.
 */
export async function enroll(
  config: ResolvedConfig,
  input: { apiKey: string; labels: readonly string[] },
  out: (line: string) => void,
): Promise<void> {
  if (!config.url) throw new ConfigError('enroll needs the service URL: --url https://… (or PULSEWIRE_URL)');
  const file = config.file;
  const keys = file.privateKey
    ? { privateKey: file.privateKey, publicKey: await publicKeyFromPrivate(file.privateKey) }
    : await generateHostKeyPair();
  const labels = input.labels.length > 0 ? parseLabels(input.labels) : config.labels;
  const hostname = os.hostname();
  const request: EnrollRequest = {
    publicKey: keys.publicKey,
    machineId: file.machineId ?? (await machineId()),
    hostname,
    ...(config.name ? { name: config.name } : {}),
    labels,
    facts: await collectFacts(),
    agentVersion: AGENT_VERSION,
  };
  const response = await enrollHost(config.url, input.apiKey, request);
  await writeConfigFile(config.path, {
    ...file,
    url: config.url,
    hostId: response.hostId,
    ...(response.tenantId ? { tenantId: response.tenantId } : {}),
    ingestUrl: response.ingestUrl,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    machineId: request.machineId,
    ...(config.name ? { name: config.name } : {}),
    labels,
  });
  out(`Enrolled ${config.name ?? hostname} as host ${response.hostId}.`);
  out(`Config and private key written to ${config.path} (mode 0600).`);
  const agent = invocation();
  out(`Start the agent with \`${agent} run\`, or install it as a service: \`sudo ${agent} install-service\`.`);
}
