"""What coopsim writes: results folders that never destroy what a user owns, with atomic
writes (``folders``), and the one manifest schema (``manifest``)."""
