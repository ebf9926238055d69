"""Pages of rosters and eligibility: roster upload, imports and their change reports, payers' roster
profiles, the member-months report and the PCP panel list (urls in `openipa.membership.urls`).

Thin, like the shell's views: parse the input with a form, call one selector or service, render.
"""
