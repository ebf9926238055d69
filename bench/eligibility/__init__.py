"""The eligibility benchmark: a generated 834 full file, parsed (read_834 and pyx12), then imported.

    python bench/eligibility/run.py [--members 1000000] [--json]
    python -m bench.eligibility.generate OUT --members N [--seed S] [--payer-id X] [--plans CODE,CODE]
    python -m bench.eligibility.parse FILE [--pyx12-members K]

The import phase (bench/eligibility/importing.py, ``run_import``) runs when that module is present.
"""
