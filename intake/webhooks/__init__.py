"""Signed webhooks to the vendor's own systems, delivered through an outbox of their own.

Events are emitted where a deal changes (`intake.deals.events`), one delivery per subscribed
endpoint in the same transaction; the outbox worker signs and POSTs each due delivery and records
every attempt (`delivery`); a target is checked before it is registered and again before every
attempt (`targets`); the channel manager's use cases are in `endpoints`.
"""
