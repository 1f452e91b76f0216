// `catkit codec …`: the benchmark and file encode/decode. Commander declarations only; the work is in
// app/codec-files.ts (testable without commander) and in the codec library.
import { Command, InvalidArgumentError, Option } from 'commander';
import { benchJSON, runCodecBench } from '../../codec/bench.js';
import { CODEC_NAMES, type CodecName } from '../../codec/codecs.js';
import { decodeFileAction, encodeFileAction } from '../../app/codec-files.js';
import { CatkitError } from '../../errors.js';
import { formatBenchTable } from '../tables.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}…${max}, got '${value}'`);
    return n;
  };
}

export function registerCodecCommands(program: Command): void {
  const codec = program.command('codec').description('entropy codecs: benchmark, encode and decode symbol files');

  codec.command('bench')
    .description('bits/value vs entropy and speed of Huffman, rANS and zero-run (and zlib) on synthetic CAT-like sources; last line is JSON')
    .option('--size <n>', 'symbols per source', integer('--size', 1, 2 ** 27), 2 ** 21)
    .option('--reps <n>', 'timed repetitions (median reported)', integer('--reps', 1, 1000), 7)
    .option('--seed <n>', 'PRNG seed', integer('--seed', 0, 2 ** 32 - 1), 1)
    .addOption(new Option('--clock <kind>', 'wall: elapsed time; cpu: process CPU time (steadier on a shared machine)').choices(['wall', 'cpu']).default('wall'))
    .option('--quiet', 'no progress lines on stderr')
    .action((opts: { size: number; reps: number; seed: number; clock: 'wall' | 'cpu'; quiet?: boolean }) => {
      const rows = runCodecBench({ ...opts, log: opts.quiet ? undefined : (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`${formatBenchTable(rows)}\n${benchJSON(rows)}\n`);
    });

  codec.command('encode')
    .description('encode a raw symbol file (u8, or u16 little-endian with --width 16) into a catkit container; the round trip is checked before writing')
    .argument('<input>', 'raw symbol file')
    .argument('<output>', 'container file to write')
    .addOption(new Option('--codec <name>', 'coder').choices([...CODEC_NAMES, 'raw', 'auto']).default('auto'))
    .addOption(new Option('--width <bits>', 'bits per symbol in the input file').choices(['8', '16']).default('8'))
    .option('--bits <b>', 'alphabet is 2^b symbols (default: the file width)', integer('--bits', 1, 16))
    .option('--max-code-length <n>', 'Huffman code-length limit', integer('--max-code-length', 1, 16))
    .option('--scale-bits <n>', 'rANS probability resolution (1…16, default auto)', integer('--scale-bits', 1, 16))
    .addOption(new Option('--zero-run-inner <coder>', 'coder for zero-run runs and literals').choices(['huffman', 'rans']))
    .action((input: string, output: string, opts: { codec: CodecName | 'raw' | 'auto'; width: string; bits?: number; maxCodeLength?: number; scaleBits?: number; zeroRunInner?: 'huffman' | 'rans' }) => {
      const width = opts.width === '16' ? 16 : 8;
      if (opts.bits !== undefined && opts.bits > width) throw new CatkitError('bad_option', `--bits ${opts.bits} exceeds --width ${width}`);
      process.stdout.write(`${encodeFileAction(input, output, { ...opts, width })}\n`);
    });

  codec.command('decode')
    .description('decode a catkit container into a raw symbol file (u8 for alphabets ≤ 256, else u16 little-endian)')
    .argument('<input>', 'container file')
    .argument('<output>', 'raw symbol file to write')
    .option('--max-elements <n>', 'refuse streams declaring more symbols (default 2^27)', integer('--max-elements', 0, 2 ** 32 - 1))
    .action((input: string, output: string, opts: { maxElements?: number }) => {
      process.stdout.write(`${decodeFileAction(input, output, opts)}\n`);
    });
}
