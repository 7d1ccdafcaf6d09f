#!/usr/bin/env node
import { nodeUtil } from './builtins.ts';
import { collectOnce } from './commands/collect.ts';
import { enroll } from './commands/enroll.ts';
import { readIngestKey } from './commands/ingest-key.ts';
import { installService } from './commands/install-service.ts';
import { runAgent } from './commands/run.ts';
import { formatStatus, statusReport } from './commands/status.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_REVOKED } from './exit-codes.ts';
import { tuneNodeForRun } from './node-tuning.ts';
import { EnrollError } from './transport/enroll.ts';
import { AGENT_VERSION } from './version.ts';

const HELP = `pulsewire-agent ${AGENT_VERSION}: sends this machine's metrics to Pulsewire

Usage: pulsewire-agent [command] [options]

Commands:
  run                 collect and push until stopped (default)
  enroll              register this machine with an ingest API key, taken from
                      PULSEWIRE_KEY, or --key-file <file> (- reads standard input):
                      PULSEWIRE_KEY=<key> pulsewire-agent enroll --url <service URL>
                      [--name <display name>] [--label key=value ...]
                      (--key <key> works too, but shows the key to other users in ps)
  status              enrolled?, last push, queue and spool depth, last error  [--json]
  collect --once      print one sample as it would be sent  [--json for one line]
  install-service     write a systemd unit  [--unit-path <file>] [--user <name>]
  help                this text

Options:
  --config <file>     config file (default: $PULSEWIRE_CONFIG, else
                      $XDG_CONFIG_HOME/pulsewire/agent.json, else /etc/pulsewire/agent.json)
  --url <url>         Pulsewire service URL                       (env PULSEWIRE_URL)
  --name <name>       display name of this host                    (env PULSEWIRE_NAME)
  --state-dir <dir>   spool and status folder                      (env PULSEWIRE_STATE_DIR)
  --statsd <h:p|off>  StatsD UDP listener, default 127.0.0.1:8125  (env PULSEWIRE_STATSD)
  --http <h:p|off>    JSON intake, default 127.0.0.1:8126          (env PULSEWIRE_HTTP)
  --docker-socket <p> Docker socket, default /var/run/docker.sock  (env PULSEWIRE_DOCKER_SOCKET)
  --log-level <l>     debug, info, warn, error or silent           (env PULSEWIRE_LOG_LEVEL)
  -h, --help          show this help
  -v, --version       print the version

Local intake for applications:
  StatsD:  echo "jobs.done:1|c|#queue:emails" | nc -u -w0 127.0.0.1 8125
  HTTP:    curl -X POST 127.0.0.1:8126/events -d '{"kind":"job.progress","id":"job-42","progress":0.5}'
           curl -X POST 127.0.0.1:8126/metrics -d '{"name":"queue.size","kind":"gauge","value":12}'

Exit status: 0 ok, 1 failure, ${EXIT_CONFIG} bad usage or config, ${EXIT_REVOKED} host revoked.
`;

const COMMANDS = ['run', 'enroll', 'status', 'collect', 'install-service', 'help'] as const;
type Command = (typeof COMMANDS)[number];

export async function main(argv: string[], out = (text: string) => console.log(text)): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`pulsewire-agent: ${(error as Error).message}\nRun \`pulsewire-agent --help\` for usage.\n`);
    return EXIT_CONFIG;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    out(AGENT_VERSION);
    return EXIT_OK;
  }
  const command = (positionals[0] ?? 'run') as Command;
  if (values.help || command === 'help') {
    out(HELP);
    return EXIT_OK;
  }
  if (!COMMANDS.includes(command) || positionals.length > 1) {
    process.stderr.write(
      `pulsewire-agent: unknown command "${positionals.join(' ')}"\nRun \`pulsewire-agent --help\` for usage.\n`,
    );
    return EXIT_CONFIG;
  }
  // Under Node, a long-running agent replaces itself with a tuned one (same pid) before it holds anything.
  if (command === 'run') tuneNodeForRun();
  try {
    const config = await loadConfig({
      ...(values.config ? { configPath: values.config } : {}),
      flags: {
        url: values.url,
        name: values.name,
        stateDir: values['state-dir'],
        statsd: values.statsd,
        http: values.http,
        dockerSocket: values['docker-socket'],
        logLevel: values['log-level'] as never,
      },
    });
    switch (command) {
      case 'run': {
        const exit = await runAgent(config);
        return exit.kind === 'revoked' ? EXIT_REVOKED : EXIT_OK;
      }
      case 'enroll': {
        const apiKey = await readIngestKey(
          { key: values.key, keyFile: values['key-file'], envKey: process.env.PULSEWIRE_KEY },
          (line) => process.stderr.write(`pulsewire-agent: ${line}\n`),
        );
        await enroll(config, { apiKey, labels: values.label ?? [] }, out);
        return EXIT_OK;
      }
      case 'status': {
        const report = await statusReport(config);
        out(values.json ? JSON.stringify(report) : formatStatus(report));
        return report.enrolled ? EXIT_OK : EXIT_FAILURE;
      }
      case 'collect':
        await collectOnce(config, values.json ?? false, out);
        return EXIT_OK;
      case 'install-service':
        await installService(
          config,
          {
            ...(values['unit-path'] ? { unitPath: values['unit-path'] } : {}),
            ...(values.user ? { user: values.user } : {}),
          },
          out,
        );
        return EXIT_OK;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pulsewire-agent: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    if (error instanceof EnrollError) {
      process.stderr.write(`pulsewire-agent: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    process.stderr.write(`pulsewire-agent: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

function parse(argv: string[]) {
  return nodeUtil().parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      'key-file': { type: 'string' },
      name: { type: 'string' },
      label: { type: 'string', multiple: true },
      'state-dir': { type: 'string' },
      statsd: { type: 'string' },
      http: { type: 'string' },
      'docker-socket': { type: 'string' },
      'log-level': { type: 'string' },
      once: { type: 'boolean' },
      json: { type: 'boolean' },
      'unit-path': { type: 'string' },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
