"""`make bench`: Berth measured side by side with its baseline in one run."""
