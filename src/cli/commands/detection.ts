// `catkit detect train | cat | eval`: the earlier detection command group, kept as an alias of
// `catkit train | cat --task detection` and `catkit eval --checkpoint RUN` (main.ts rewrites the
// arguments before parsing, so both spellings run the same code with the same options).
import type { Command } from 'commander';

/** argv with `detect train|cat|eval …` spelled as the task-generic commands; anything else unchanged. */
export function expandDetectAlias(argv: string[]): string[] {
  const [node, bin, group, sub, ...rest] = argv;
  if (group !== 'detect' || node === undefined || bin === undefined) return argv;
  if (sub === 'train' || sub === 'cat') return [node, bin, sub, '--task', 'detection', ...rest];
  if (sub === 'eval' && rest[0] !== undefined && !rest[0].startsWith('-')) return [node, bin, 'eval', '--checkpoint', ...rest];
  return argv;
}

export function registerDetectionCommands(program: Command): void {
  program.command('detect')
    .description('alias: `detect train|cat …` = `train|cat --task detection …`, `detect eval RUN …` = `eval --checkpoint RUN …`')
    .addHelpText('after', '\nSee `catkit train --help` (options under "Detection only") and README "Detection".')
    .action((_o: unknown, cmd: Command) => { cmd.help(); });
}
