"""Named studies, one file each: `python -m studies.run NAME` runs `studies/NAME.py`'s `get_study(profile)`."""
