"""Pages of capitation: remittances, reconciliation and its work queue, distribution runs, statements.

Thin: each view parses its form, calls one selector or service and renders. The selectors refuse whoever may
not read (practice users everywhere but their own statements) and the services whoever may not act;
`domain_errors` turns both refusals into the 403 page.
"""
