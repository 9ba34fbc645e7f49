"""Ledger: double-entry accounting, right to the cent."""
