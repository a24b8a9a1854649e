"""Zoom Meeting: the first virtual meeting provider (see zoom-api.md for the protocol it follows).

- provider.py: ZoomProvider, the hooks the framework calls (connect, meetings, settings page).
- oauth.py: Zoom's OAuth app for the framework's flow (virtualmeeting.oauth), the account_credentials grant.
- client.py: the REST client: one session, timeouts, token refresh serialised per connection, error mapping.
- payloads.py: a MeetingSpec as Zoom request bodies (local start time + IANA zone, whole minutes).
- limits.py: the per-user daily create/update quota (database) and per-account per-second buckets (Redis).
- scopes.py: the granular and classic scope sets, and which are missing from a grant.
- views.py, webhooks.py, tasks.py: the signed webhook endpoint and the work it queues.
- forms.py, options.py: the settings form and the options' defaults.

Decisions worth knowing:
- Nothing internal goes into a Zoom meeting: attendees read its topic and agenda in Zoom's
  invitation. A create whose answer was lost is found again from what this site remembers of the
  create before sending it (ZoomCreateRequest: topic, start, duration, time sent), matched against
  the host's upcoming meetings in Zoom's list call (created_at near the send, not held by another
  row). find_meeting's docstring says why not custom_keys or tracking_fields.
- The daily quota is counted in the database, not Redis: a Redis restart must not forget it.
  Zoom's 429 wins over the count: its Retry-After is the wait kept (limits.py).
- Meeting options (waiting room, ...) apply to meetings created after they change; updates send
  only the fields of the meeting that changed.
"""
