#!/usr/bin/env node
import { main } from './main.js';
import { guardProcess } from './exit.js';

const guard = guardProcess();
main(process.argv).then((code) => guard.finished(code));
