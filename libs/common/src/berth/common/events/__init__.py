"""Event contracts, one module per producer, and the envelope they travel in."""

from berth.common.events.base import Actor, Envelope, Event, event_types, parse_event

__all__ = ["Actor", "Envelope", "Event", "event_types", "parse_event"]
