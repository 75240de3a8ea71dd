"""Platform adapters: translate platform events into core commands and render core messages."""
