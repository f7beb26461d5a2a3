"""Mail: messages are queued in the outbox with the change that causes them, sent later by a worker."""
