"""`python -m batchsql` is the `batchsql` command."""

from batchsql.cli import main

main()
