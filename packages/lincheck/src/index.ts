/**
 * @packageDocumentation
 *
 * Linearizability checker for key-value and lock histories
 */
export {}
