/**
 * @packageDocumentation
 *
 * Durable write-ahead log, hard state, snapshots and an LMDB state store, with memory versions
 */
export {}
