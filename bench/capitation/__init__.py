"""The capitation benchmark: the pure engines on a million member-months, then the whole monthly cycle
(import an 820, reconcile, distribute, approve with its ledger entry, statements, payments) on SQLite and
PostgreSQL.

    python bench/capitation/run.py [--members 1000000] [--db sqlite,postgresql] [--json]
"""
