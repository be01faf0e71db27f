"""One router per resource of the contract's HTTP table."""
