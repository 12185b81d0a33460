"""Allow ``python -m pelayanan``."""

from pelayanan.cli import main

main()
