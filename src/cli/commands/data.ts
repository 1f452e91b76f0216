// `catkit data make-voc-synthetic OUT`: writes the deterministic synthetic detection set (VOCdevkit layout).
import type { Command } from 'commander';
import { float, int } from '../options.js';

interface SyntheticFlags { images: number; seed: number; classes?: number; maxObjects?: number; minSide?: number; maxSide?: number; minObject?: number; maxObject?: number }

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('dataset utilities');
  data.command('make-voc-synthetic')
    .description('write a deterministic synthetic detection set in the VOCdevkit layout (digits on textured backgrounds; VOC2007 trainval/test, VOC2012 trainval)')
    .argument('<out>', 'new (or empty) folder to create')
    .option('--images <n>', 'number of images', int('--images', 4, 10_000_000), 1000)
    .option('--seed <n>', 'seed (same seed → identical files)', int('--seed', 0), 0)
    .option('--classes <k>', 'use digits 0 … k−1 only, written as the first k VOC classes (default: 10)', int('--classes', 1, 10))
    .option('--max-objects <n>', 'objects per image drawn from 1 … n (default: 5)', int('--max-objects', 1, 50))
    .option('--min-side <px>', 'smallest image side (default: 200)', int('--min-side', 32, 4096))
    .option('--max-side <px>', 'largest image side (default: 320)', int('--max-side', 32, 4096))
    .option('--min-object <f>', "smallest object side as a fraction of the image's shorter side (default: 28 px)", float('--min-object', 0, 1))
    .option('--max-object <f>', "largest object side as a fraction of the image's shorter side (default: 0.55)", float('--max-object', 0, 1))
    .action(async (out: string, o: SyntheticFlags) => {
      const { makeVocSynthetic } = await import('../../data/voc-synthetic.js');
      const s = await makeVocSynthetic(out, o);
      process.stdout.write(`${s.root}: ${s.images} images, ${s.objects} objects (${s.difficult} difficult); `
        + `VOC2007 trainval ${s.sets['2007/trainval']}, test ${s.sets['2007/test']}; VOC2012 trainval ${s.sets['2012/trainval']}\n`);
    });
}
