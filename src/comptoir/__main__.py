"""`python -m comptoir ...`: the same command line as the installed `comptoir` script."""

from comptoir.cli import main

if __name__ == "__main__":
    main()
