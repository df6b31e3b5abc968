"""``codex-matrix`` subcommands: one small module per subcommand, each calling into the library."""
