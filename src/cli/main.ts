// catkit command line. Each command group lives in its own module under commands/ and registers itself here.
import { Command, CommanderError } from 'commander';
import { registerCodecCommands } from './commands/codec.js';
import { registerTrainCommands } from './commands/train.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerTextCommands } from './commands/text.js';
import { registerDataCommands } from './commands/data.js';
import { registerDetectionCommands } from './commands/detection.js';
import { isCatkitError } from '../errors.js';

export function buildProgram(): Command {
  const program = new Command('catkit')
    .description('Compression-aware training: quantize, entropy-regularize and entropy-code neural network feature maps')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerDemoCommand(program);
  registerTrainCommands(program);
  registerCodecCommands(program);
  registerPredictCommand(program);
  registerTextCommands(program);
  registerDataCommands(program);
  registerDetectionCommands(program);
  return program;
}

/** Error classes (by name) that report a user's mistake or a data problem, not a bug. */
const USER_ERRORS = new Set(['UserError', 'CodecError', 'DataError', 'StateDictError', 'SafetensorsError', 'NonFiniteError']);

/** Errors a user can fix are printed as one line; anything else keeps its stack for a bug report. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const e = err as Error;
    const userFacing = isCatkitError(err) ? err.userFacing : USER_ERRORS.has(e?.name);
    const hint = isCatkitError(err) && err.hint ? `\n  hint: ${err.hint}` : '';
    process.stderr.write(`catkit: ${userFacing ? e.message + hint : (e?.stack ?? String(err))}\n`);
    return userFacing ? 2 : 1;
  }
}
