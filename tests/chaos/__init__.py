"""The chaos suite: a load driver, a fault injector and a checker around real processes.

`python -m tests.chaos --help` runs it by hand (a longer soak with `--profile soak`);
tests/test_chaos.py runs the CI profile.
"""
