"""The `kpilib` command line: one typer app, one module per sub-command group."""
