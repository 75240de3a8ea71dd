"""A person's home: their own picture at a glance (Slack's App Home, a Teams card, `home`)."""
