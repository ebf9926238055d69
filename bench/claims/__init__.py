"""The claims benchmark: a generated 837P file, parsed by read_837 (and pyx12 over its first claims).

python bench/claims/parse.py --claims 200000 [--seed 7] [--pyx12-claims 2000] [--json]
python bench/claims/generate.py OUT --claims N [--seed 7]
"""
