// catkit command line. Each command group lives in its own module under commands/ and registers itself here.
import { Command, CommanderError } from 'commander';
import { registerCodecCommands } from './commands/codec.js';

export function buildProgram(): Command {
  const program = new Command('catkit')
    .description('Compression-aware training: quantize, entropy-regularize and entropy-code neural network feature maps')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerCodecCommands(program);
  return program;
}

/** Errors a user can fix are printed as one line; anything else keeps its stack for a bug report. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const e = err as Error;
    const userFacing = e?.name === 'UserError' || e?.name === 'CodecError' || e?.name === 'DataError';
    process.stderr.write(`catkit: ${userFacing ? e.message : (e?.stack ?? String(err))}\n`);
    return userFacing ? 2 : 1;
  }
}
