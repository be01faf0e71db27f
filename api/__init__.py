"""fieldlog's entry points: the HTTP API, its pages, and the command line."""
