"""parksim experiments package."""
