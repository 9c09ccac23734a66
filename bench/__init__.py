"""`make bench`: what changing an avatar costs, beside the cheapest way to do the same job."""
