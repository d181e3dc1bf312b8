"""``python -m convcli``: the same as the ``convcli`` command."""

from convcli.cli.launch import main

if __name__ == "__main__":
    main()
