"""The `turnstream` command: the composition root that alone imports both gateway and worker."""
