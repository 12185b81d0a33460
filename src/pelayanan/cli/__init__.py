"""The pelayanan command line."""
