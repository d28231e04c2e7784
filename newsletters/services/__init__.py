"""Every change of the newsletter's subscribers, one module per subject (editions are sent by
newsletters.delivery):

- subscriptions: subscribe, confirm, opt in again, preferences, unsubscribe, stale sign-ups;
- imports: the CSV import of a subscriber list and the export;
- erasure: erasing a subscriber at the person's request, and which rows are a member's;
- alerts: the event alerts.
"""
