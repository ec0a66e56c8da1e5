/**
 * schedule: runs fullprocess ticks in-process on a cron schedule (node-cron,
 * no overlap), for machines without cron. Each tick's result is one JSON line
 * on stdout. Stops on SIGINT/SIGTERM after the running tick.
 */
import { pathToFileURL } from 'node:url';
import cron from 'node-cron';
import { runCommand } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { UserError } from './lib/errors.js';
import { silentLogger, type Logger } from './lib/log.js';
import { runFullprocess } from './fullprocess.js';

/** Starts the schedule; resolves when it is stopped by a signal. */
export async function runSchedule(
  config: Config,
  options: { cron?: string; now?: boolean } = {},
  log: Logger = silentLogger,
): Promise<{ stopped_at: string; ticks: number }> {
  const expression = options.cron ?? config.automation.schedule;
  if (!cron.validate(expression)) throw new UserError(`not a valid cron expression: "${expression}" (e.g. "*/10 * * * *")`);
  let ticks = 0;
  const tick = async (): Promise<void> => {
    ticks++;
    const result = await runFullprocess(config, {}, log.child('tick'));
    process.stdout.write(
      JSON.stringify({ tick: ticks, outcome: result.outcome, decision: result.decision, run_id: result.run_id, error: result.error }) +
        '\n',
    );
  };
  const task = cron.schedule(expression, tick, { noOverlap: true, name: 'fullprocess' });
  log.info(`running fullprocess on "${expression}"; Ctrl-C to stop`);
  if (options.now) await tick();
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await task.stop();
  return { stopped_at: new Date().toISOString(), ticks };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ cron?: string; now?: boolean }>({
    name: 'schedule',
    description: 'Run fullprocess ticks in-process on a cron schedule (default automation.schedule, */10 * * * *)',
    options: (program) =>
      program
        .option('--cron <expression>', 'cron expression instead of automation.schedule')
        .option('--now', 'run one tick at start, then follow the schedule'),
    run: (config, options, log) => runSchedule(config, options, log),
  });
}
