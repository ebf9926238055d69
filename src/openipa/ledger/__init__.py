"""The double-entry ledger: accounts, journal entries that balance and are never edited (only reversed),
the trial balance."""
