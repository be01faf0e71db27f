"""fieldlog's domain: the facts crews and offices file, and the rules they obey."""
