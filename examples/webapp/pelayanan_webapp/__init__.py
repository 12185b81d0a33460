"""A reference host application: a municipal complaint desk built on pelayanan.

Run it with ``python -m pelayanan_webapp --demo`` (see examples/webapp/README.md).
"""
