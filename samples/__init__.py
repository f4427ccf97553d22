"""Sample bots. Each module exposes `bot`: `turnstream dev --bot samples.<name>:bot` runs one."""
