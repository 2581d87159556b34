import type { Command } from '../commands.js';
import { runDoctor } from './doctor.js';

export const doctorCommand: Command = {
  usage: 'doctor',
  help:
    'Check the set-up (configuration, database, migrations, policies, TLS, directory, SMTP, webhook, SIEM, ' +
    'clock, disk) and say what to fix; changes nothing; exit 1 when a check FAILED (docs/doctor.md)',
  // Given a config already loaded (a test, another command), doctor still validates the environment itself.
  run: () => runDoctor(process.env),
  runWithEnvironment: (env) => runDoctor(env),
};
