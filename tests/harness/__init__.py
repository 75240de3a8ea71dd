"""Test harnesses: fakes of Slack and Microsoft, and the fixtures that drive the real adapters."""
