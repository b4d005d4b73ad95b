"""Local learning rules as pure tensor maths (no network code)."""
