"""Privacy: IP address retention, anonymising signatures after a petition closes, and
self-service data rights (see everything held about an address, and erase it)."""
