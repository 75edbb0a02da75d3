"""What coopsim writes: results folders that never destroy what a user owns (``folders``),
every file written atomically (``writing``), and the one manifest schema (``manifest``)."""
