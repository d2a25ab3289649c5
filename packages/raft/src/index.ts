/**
 * @packageDocumentation
 *
 * Raft consensus with a deterministic core: pre-vote, check-quorum, ReadIndex, leases, joint consensus, snapshots
 */
export {}
