"""The study catalogue: one file per named study, `python -m studies.run NAME` runs `studies/catalog/NAME.py`.

Each exposes `get_study(profile)` and `DESCRIPTION`; its module name is the study's name (studies.registry).
"""
