"""parksim simulation package."""
