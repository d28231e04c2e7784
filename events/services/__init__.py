"""Every state change of the events app, one module per subject; reads are in events.selectors.

- registrations: register, cancel, move, promote from the waiting list, confirm over quota,
  attendance (all decided under the event's lock);
- throttle: the rate limit on a member's registration changes;
- lifecycle: publishing, schedule changes, copying and cancelling an event, messages and
  reminders to its participants;
- erasure: a member's registrations when the account is erased, and the retention of needs.
- calendar_feeds: the member's private calendar feed address, made and replaced.
"""
