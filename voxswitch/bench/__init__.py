"""``voxswitch bench``: simulated callers over real sockets, and the reports they produce."""
