"""The top floor: the ``qa`` command (``cli.main``), which parses, calls the floors below and formats."""
