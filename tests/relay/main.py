#!/usr/bin/python3
"""main.py -- entry point of tests/relay (run it through tests/relay/run.sh)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.suite import main  # noqa: E402
import scenarios_harness  # noqa: E402,F401  (registers the harness self-checks)
import scenarios_standalone  # noqa: E402,F401
import scenarios_cluster  # noqa: E402,F401

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
