"""Code both sides of the queue share: settings, the envelope, the key layout, Redis plumbing."""
