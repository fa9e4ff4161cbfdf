"""parksim's live dashboard (Mesa SolaraViz): ``parksim-dashboard``."""
