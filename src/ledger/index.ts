export {
  buildLedger, fitStaticTables, ledgerToJSON, LedgerAccumulator,
  type BandwidthLedger, type CodecCost, type LedgerLayerInput, type LedgerOptions, type LedgerRow, type LedgerTotals,
  type StaticCosts, type StaticTables, type LedgerState, type CostSums,
} from './ledger.js';
