/**
 * @packageDocumentation
 *
 * Multi-Paxos for Synod with a deterministic core, stable leader, flexible quorums, behind the ReplicatedLog contract
 */
export {}
