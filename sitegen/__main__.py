"""`python -m sitegen` is the `sitegen` command."""

from ._entry import main

main()
