export {
  buildLedger, batchMeasurement, checkLayerBatch, fitStaticTables, ledgerToJSON, LedgerAccumulator, measureLayerBatch, type BatchMeasurement,
  type BandwidthLedger, type CodecCost, type LedgerLayerInput, type LedgerOptions, type LedgerRow, type LedgerTotals,
  type StaticCosts, type StaticTables, type LedgerState, type CostSums,
} from './ledger.js';
