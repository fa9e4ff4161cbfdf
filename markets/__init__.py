"""parksim markets package."""
