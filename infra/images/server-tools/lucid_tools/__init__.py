"""The operator's toolbox for the Lucid Pi: one entrypoint, many checks, no shell."""
