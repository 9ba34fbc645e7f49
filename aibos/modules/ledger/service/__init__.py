"""The ledger's rules, one concept a file."""
