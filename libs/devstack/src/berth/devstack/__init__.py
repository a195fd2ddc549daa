"""`make run`: one machine, every part of Berth, in the foreground."""
