"""`python -m studies.run`: the arguments (or a resumed run's saved state) made into one plan, checked,
then run step by step; the terminal's progress line, signals and exit codes."""
