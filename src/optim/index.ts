// Public optim API: import { SGD, CosineAnnealingLR, … } from 'catkit/optim'.
export { Optimizer, withDefaults, type BaseOptions, type ParamGroup, type ParamGroupSpec, type Params, type ParamState, type OptimizerStateDict, type Json } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, LinearWarmup, type LrFunction, type ScheduleState } from './schedules.js';
export { paramGroupsNoDecay, isNormOrBias } from './groups.js';
