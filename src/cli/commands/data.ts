// `catkit data make-voc-synthetic OUT`: writes the deterministic synthetic detection set (VOCdevkit layout).
import type { Command } from 'commander';
import { int } from '../options.js';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('dataset utilities');
  data.command('make-voc-synthetic')
    .description('write a deterministic synthetic detection set in the VOCdevkit layout (digits on textured backgrounds; VOC2007 trainval/test, VOC2012 trainval)')
    .argument('<out>', 'new (or empty) folder to create')
    .option('--images <n>', 'number of images', int('--images', 4, 10_000_000), 1000)
    .option('--seed <n>', 'seed (same seed → identical files)', int('--seed', 0), 0)
    .action(async (out: string, o: { images: number; seed: number }) => {
      const { makeVocSynthetic } = await import('../../data/voc-synthetic.js');
      const s = await makeVocSynthetic(out, { images: o.images, seed: o.seed });
      process.stdout.write(`${s.root}: ${s.images} images, ${s.objects} objects (${s.difficult} difficult); `
        + `VOC2007 trainval ${s.sets['2007/trainval']}, test ${s.sets['2007/test']}; VOC2012 trainval ${s.sets['2012/trainval']}\n`);
    });
}
