"""Read models: the questions crews, the safety office and HR ask, answered."""
