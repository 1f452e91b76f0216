// `catkit export RUN --format catk|onnx --out FILE` and `catkit inspect FILE`: option parsing and
// printing only; the work is in src/app/export.
import type { Command } from 'commander';
import { addThreadsOption, int, oneOf } from '../options.js';

export function registerExportCommands(program: Command): void {
  addThreadsOption(program.command('export').description('write a trained run as a compressed model file (.catk) or ONNX with QuantizeLinear/DequantizeLinear nodes'))
    .argument('<run>', 'run folder (or its checkpoint.json)')
    .requiredOption('--out <file>', 'file to write (model.catk, model.onnx)')
    .option('--format <fmt>', 'catk | onnx', oneOf('--format', ['catk', 'onnx'] as const), 'catk')
    .option('--per-channel', 'quantize weights with one grid per output channel (the run used one per tensor, so results differ slightly)')
    .option('--data <dir>', "read the run's dataset from this folder instead of the one it recorded")
    .option('--force', 'replace --out if it exists')
    .action(async (run: string, o: { out: string; format: 'catk' | 'onnx'; perChannel?: boolean; data?: string; force?: boolean }) => {
      const { exportRun } = await import('../../app/export/model-file.js');
      const s = await exportRun(run, { format: o.format, out: o.out, perChannel: Boolean(o.perChannel), data: o.data, force: Boolean(o.force) });
      process.stdout.write(`export: ${run} → ${s.out} (${s.format}, ${s.bytes} bytes; ${s.nodes} nodes, ${s.sites} activation sites, ${s.tensors} tensors)\n`);
    });

  program.command('inspect').description('show what a .catk model file holds and what each tensor costs')
    .argument('<file>', '.catk model file')
    .option('--json', 'print the summary as JSON')
    .option('--no-tensors', 'totals only')
    .action(async (file: string, o: { json?: boolean; tensors: boolean }) => {
      const { loadModelFile } = await import('../../export/catk-file.js');
      const { summarizeModel, formatSummary } = await import('../../app/export/inspect.js');
      const s = summarizeModel(loadModelFile(file));
      process.stdout.write((o.json ? JSON.stringify(s, null, 1) : formatSummary(s, { tensors: o.tensors })) + '\n');
    });

  addThreadsOption(program.command('serve-demo').description('serve the browser demo: the model classifies sample and drawn digits, with per-layer bytes raw and coded'))
    .argument('<model>', 'a .catk file, or a run folder (exported on the fly)')
    .option('--port <n>', 'port (0: any free one)', int('--port', 0, 65535), 8080)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--samples <n>', 'sample test images shown (digits runs)', int('--samples', 0, 1000), 16)
    .action(async (model: string, o: { port: number; host: string; samples: number }) => {
      const { startDemoServer, digitsSamples } = await import('../../app/demo-server.js');
      const { readCatk } = await import('../../export/catk.js');
      const { readModelFileBytes } = await import('../../export/catk-file.js');
      let bytes: Uint8Array;
      if (model.endsWith('.catk')) {
        bytes = readModelFileBytes(model);
      } else {
        const os = await import('node:os'), path = await import('node:path'), fs = await import('node:fs');
        const { exportRun } = await import('../../app/export/model-file.js');
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'catkit-demo-'));
        try {
          const out = path.join(tmp, 'model.catk');
          await exportRun(model, { format: 'catk', out });
          bytes = readModelFileBytes(out);
        } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
      }
      const m = readCatk(bytes, model); // refuse a bad file here, not in the browser
      const samples = m.meta.dataset === 'digits' && o.samples > 0 ? await digitsSamples(o.samples) : [];
      const { url } = await startDemoServer({ model: bytes, samples, host: o.host, port: o.port });
      process.stdout.write(`demo: ${url} (${m.meta.model} on ${m.meta.dataset}, ${bytes.length} bytes; Ctrl-C stops)\n`);
    });
}
