"""Run the command line as `python -m warmline.cli`."""

from warmline.cli import main

main()
