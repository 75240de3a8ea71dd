"""One module per aggregate. Functions take the `Unit` of the caller's transaction."""
