// Prints compiler/linker flags for libtorch. LIBTORCH points at another distribution
// (e.g. an unpacked libtorch CUDA or newer release); default is Debian's libtorch-dev.
'use strict';
const path = require('path');
const fs = require('fs');
const root = process.env.LIBTORCH;
const what = process.argv[2];
const include = root
  ? [path.join(root, 'include'), path.join(root, 'include/torch/csrc/api/include')]
  : ['/usr/include', '/usr/include/torch/csrc/api/include'];
const libDir = root ? path.join(root, 'lib') : '/usr/lib/x86_64-linux-gnu';
const probe = path.join(include[0], 'ATen/ATen.h');
if (!fs.existsSync(probe)) {
  console.error(`catkit: libtorch headers not found at ${probe}. Install Debian's libtorch-dev ` +
    `(scripts/setup.sh does) or set LIBTORCH to a libtorch distribution.`);
  process.exit(1);
}
if (what === 'include') console.log(include.join(' '));
else if (what === 'libs') {
  const flags = [`-L${libDir}`, '-ltorch', '-ltorch_cpu', '-lc10'];
  if (root) flags.push(`-Wl,-rpath,${libDir}`);
  console.log(flags.join(' '));
} else { console.error('usage: libtorch-paths.cjs include|libs'); process.exit(2); }
