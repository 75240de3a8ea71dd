"""One module per aggregate. Functions take the session of the caller's transaction."""
