"""Functional network templates on the 91,282 grayordinates and overlap statistics."""
