"""Intake's benchmark: `make bench`, or `python bench/run.py --help` (the parts are listed in bench/run.py)."""
