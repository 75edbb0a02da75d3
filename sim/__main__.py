"""``python -m sim`` and the ``coopsim`` command.

The command line loads inside ``main``, so a Ctrl-C while the simulator's libraries load ends
in one line too.
"""

import sys


def main() -> int:
    try:
        from sim.cli import main as run
    except KeyboardInterrupt:
        print("coopsim: interrupted before anything ran", file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":
    sys.exit(main())
