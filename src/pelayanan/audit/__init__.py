"""The audit ledger: canonical entries, hash chain, Merkle tree, checkpoints, verification."""
