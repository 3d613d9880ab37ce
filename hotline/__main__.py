"""`python -m hotline` is the same as the `hotline` command."""

from hotline.cli.main import main

main()
