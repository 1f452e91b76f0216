// catkit command line. Each command group lives in its own module under commands/ and registers itself here.
// Exit codes (see exit.ts and the README): 0 ok, 1 internal error with stack, 2 user/data error in one line, 130 interrupted.
import { Command, CommanderError } from 'commander';
import { registerCodecCommands } from './commands/codec.js';
import { registerTrainCommands } from './commands/train.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerTextCommands } from './commands/text.js';
import { registerReportCommand } from './commands/report.js';
import { registerSweepCommand } from './commands/sweep.js';
import { registerDataCommands } from './commands/data.js';
import { expandDetectAlias, registerDetectionCommands } from './commands/detection.js';
import { registerExportCommands } from './commands/export.js';
import { describeCommanderError, describeError } from './exit.js';

export function buildProgram(): Command {
  const program = new Command('catkit')
    .description('Compression-aware training: quantize, entropy-regularize and entropy-code neural network feature maps')
    .version('0.1.0')
    .exitOverride()
    // Parse errors are printed by main() as one line plus the usage line, not by commander (inherited by subcommands).
    .configureOutput({ outputError: () => undefined });
  registerDemoCommand(program);
  registerTrainCommands(program);
  registerCodecCommands(program);
  registerPredictCommand(program);
  registerTextCommands(program);
  registerDataCommands(program);
  registerDetectionCommands(program);
  registerReportCommand(program);
  registerSweepCommand(program);
  registerExportCommands(program);
  return program;
}

/** The usage line of the deepest (sub)command named in argv, e.g. `catkit codec encode [options] <input> <output>`. */
function usageLine(program: Command, argv: string[]): string {
  let cmd = program;
  for (const tok of argv.slice(2)) {
    const sub = cmd.commands.find((c) => c.name() === tok || c.aliases().includes(tok));
    if (!sub) { if (tok.startsWith('-')) continue; break; }
    cmd = sub;
  }
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return `${names.join(' ')} ${cmd.usage()}   (more: ${names.join(' ')} --help)`;
}

/** Runs the CLI and returns its exit code; errors a user can fix are printed as one line, anything else keeps its stack. */
export async function main(rawArgv: string[]): Promise<number> {
  const argv = expandDetectAlias(rawArgv);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const d = err instanceof CommanderError ? describeCommanderError(err, usageLine(program, argv)) : describeError(err);
    process.stderr.write(d.text);
    return d.code;
  }
}
