"""parksim agents package."""
