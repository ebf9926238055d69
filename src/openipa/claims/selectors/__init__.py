"""Reads of claims data, scoped to the acting user (a practice user sees only claims its practice billed), with
member-level reads written to the audit log. One module per area: ``claims``, ``runs``, ``dashboard``,
``reserves``, ``stoploss``."""
