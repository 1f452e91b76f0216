// catkit's high-level API: import { … } from 'catkit'. Build or load a model, attach CAT, fit, evaluate
// in bits; each layer is also a namespace here and a subpath of its own ('catkit/tensor', 'catkit/nn',
// 'catkit/optim', 'catkit/method', 'catkit/data', 'catkit/models', and the engine-free 'catkit/codec'
// and 'catkit/ledger'). Importing this entry point loads libtorch.
export * as tensor from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as method from './method/index.js';
export * as data from './data/index.js';
export * as models from './models/index.js';
export * as codec from './codec/index.js';
export * as ledger from './ledger/index.js';

// Errors: one base with a stable code (userFacing: the input's fault, not a bug).
export { CatkitError, InternalError, isCatkitError, isUserFacing } from './errors.js';

// Models by name (`catkit models` lists them).
export { buildModel, MODEL_NAMES, type ModelSpec } from './models/registry.js';

// Runs: a config (defaults, recipes, file, builders), a session built from it, training, measurement.
export {
  TRAIN_DEFAULTS, CAT_DEFAULTS, CAT_RECIPES, CAT_RECIPE_NAMES, ConfigError, validateConfig, describeConfig,
  type RunConfig, type CatRecipe,
} from './train/config.js';
export {
  buildTrainConfig, buildCatConfig, buildResumeConfig, buildImportConfig,
  type TrainFlags, type CatFlags, type DataFlags, type OptimFlags,
} from './app/run-config.js';
export { readConfigFile, checkRunConfigFields, runConfigSchemaPath } from './app/config-file.js';
export { buildSession, disposeSession, type Session } from './train/session.js';
export { fit, trainStep, type FitOptions, type FitResult, type StepStats } from './train/trainer.js';
// Rate targets: λ found during training so the activations reach B bits/value (any training loop).
export { RateTarget, RATE_TOLERANCE, rateTargetOptions, type RateTargetOptions, type RateOutcome, type RateEpoch } from './train/rate-target.js';
export { RateController, RATE_METRICS, RATE_DEFAULTS, type RateMetric, type RateControllerOptions } from './train/rate-controller.js';
export { measureSiteRates, type SiteRates } from './train/rate-measure.js';
export { evaluateAccuracy, type Accuracy } from './train/evaluate.js';
export {
  evaluateBandwidth, codedEvaluation, fitBandwidthTables, weightBandwidth, type BandwidthReport, type BandwidthOptions, type CodingSample, type LayerBits, type WeightBits,
} from './train/bandwidth.js';
export { CodingPool, type CodingPoolOptions } from './train/coding-pool.js';
export { saveCheckpoint, loadCheckpoint, readCheckpointMeta, CHECKPOINT_JSON, type CheckpointMeta, type EpochRecord } from './train/checkpoint.js';
export { runTraining, runEvaluation, measure, type RunOptions, type EvaluationOptions } from './app/run.js';
export { runDemo, type DemoRun } from './app/demo.js';
export { runSweep, type SweepOptions, type SweepSummary } from './app/sweep.js';
export { buildReport, writeReport, readReport, type RunReport, type RateReport } from './report/index.js';
export { renderHtmlReport, writeHtmlReport } from './report/html.js';
export { combineReports } from './report/combine.js';

// Plain-text tables of reports and ledgers, as the CLI prints them.
export { formatComparison, formatLayers, formatLedgerTable } from './cli/tables.js';
