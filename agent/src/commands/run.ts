import { Agent, type ExitReason } from '../agent.ts';
import { collectFacts } from '../collectors/facts.ts';
import { defaultCollectors, SampleCollector } from '../collectors/index.ts';
import { loosePermissions, type ResolvedConfig, requireEnrolled } from '../config/load.ts';
import { IntakeBuffer } from '../intake/aggregator.ts';
import { type HttpIntake, startHttpIntake } from '../intake/http.ts';
import { type StatsdListener, startStatsd } from '../intake/statsd.ts';
import { createLogger, errorMessage } from '../log.ts';
import { AGENT_VERSION } from '../version.ts';

/** `pulsewire-agent run`: the long-running agent, until SIGTERM/SIGINT or a revoked host. */
export async function runAgent(config: ResolvedConfig): Promise<ExitReason> {
  const identity = requireEnrolled(config);
  const log = createLogger(config.logLevel);
  if (await loosePermissions(config.path).catch(() => false)) {
    log.warn(`${config.path} is readable by other users; it holds this host's private key: chmod 600 it`);
  }
  const intake = new IntakeBuffer(log);
  const listeners: (StatsdListener | HttpIntake)[] = [];
  if (config.statsd.enabled) {
    await startStatsd(intake, log, config.statsd).then(
      (listener) => listeners.push(listener),
      (error) => log.warn(`statsd listener off: ${errorMessage(error)}`, { port: config.statsd.port }),
    );
  }
  if (config.http.enabled) {
    await startHttpIntake(intake, log, config.http).then(
      (listener) => listeners.push(listener),
      (error) => log.warn(`http intake off: ${errorMessage(error)}`, { port: config.http.port }),
    );
  }
  let agent: Agent | undefined;
  const collector = new SampleCollector(
    defaultCollectors({
      ...(config.dockerSocket ? { dockerSocket: config.dockerSocket } : {}),
      ...(config.nvidiaSmi ? { nvidiaSmi: config.nvidiaSmi } : {}),
      disabled: config.disabledCollectors,
      gauges: () => agent?.gauges() ?? { queueDepth: 0, spoolDepth: 0 },
    }),
    log,
  );
  agent = new Agent({
    ...identity,
    stateDir: config.stateDir,
    queue: config.spool,
    collector,
    intake,
    facts: () => collectFacts(),
    log,
    // The tenant object tells the agent to go live the moment someone opens this host's page.
    control: config.controlSocket,
  });
  const running = agent;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn(`${signal} again: exiting without waiting for the last push (batches already spooled stay)`);
      process.exit(1);
    }
    log.info(`${signal}: pushing what is pending, then stopping`);
    running.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  log.info(`pulsewire-agent ${AGENT_VERSION} started`, {
    host: identity.hostId,
    ingest: identity.ingestUrl,
    statsd: config.statsd.enabled ? `${config.statsd.host}:${config.statsd.port}` : 'off',
    http: config.http.enabled ? `${config.http.host}:${config.http.port}` : 'off',
    control: config.controlSocket ? 'on' : 'off',
    state: config.stateDir,
  });
  try {
    return await running.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await Promise.allSettled(listeners.map((listener) => listener.close()));
    log.info('stopped');
  }
}
