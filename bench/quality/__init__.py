"""Quality and risk adjustment benchmarks (issue 8): hcc.py scores CMS-HCC risk."""
