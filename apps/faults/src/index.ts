/**
 * @packageDocumentation
 *
 * Fault-injection suite for Synod on real processes and real network cuts (network namespaces, nft, kill, SIGSTOP, faketime)
 */
export {}
