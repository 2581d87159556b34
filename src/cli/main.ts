import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '../config/config.schema.js';
import { COMMANDS } from './commands.js';

function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return `Usage: npm run gatehouse -- <command>\n\nCommands:\n${Object.values(COMMANDS)
    .map((c) => `  ${c.usage.padEnd(width)}  ${c.help}`)
    .join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(name && name !== 'help' ? `Unknown command '${name}'.\n\n${usage()}` : usage());
    return name && name !== 'help' ? 2 : 0;
  }
  Logger.overrideLogger(['error', 'warn']);
  try {
    if (command.runWithEnvironment) return await command.runWithEnvironment(process.env, args);
    return await command.run(loadConfig(), args);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `Error: ${(error as Error).message}`}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
