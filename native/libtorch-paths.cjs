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
// c10d with Gloo needs libtorch's distributed headers and Gloo's own (Debian: libgloo-dev). Without
// them the addon still builds, and its distributed functions say what is missing.
const hasGloo = fs.existsSync(path.join(include[0], 'torch/csrc/distributed/c10d/ProcessGroupGloo.hpp'))
  && fs.existsSync(path.join(include[0], 'gloo/config.h'));
if (what === 'include') console.log(include.join(' '));
else if (what === 'defines') console.log(hasGloo ? 'CATKIT_WITH_GLOO USE_C10D_GLOO' : 'CATKIT_WITHOUT_GLOO');
else if (what === 'libs') {
  const flags = [`-L${libDir}`, '-ltorch', '-ltorch_cpu', '-lc10'];
  if (root) flags.push(`-Wl,-rpath,${libDir}`);
  console.log(flags.join(' '));
} else { console.error('usage: libtorch-paths.cjs include|libs|defines'); process.exit(2); }
