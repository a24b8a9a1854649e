"""Zoom Meeting: the first virtual meeting provider (see zoom-api.md for the protocol it follows).

- provider.py: ZoomProvider, the hooks the framework calls (connect, meetings, settings page).
- oauth.py: authorize URL, code exchange, refresh and revoke (requests-oauthlib), token error shapes.
- client.py: the REST client: one session, timeouts, token refresh serialised per connection, error mapping.
- payloads.py: a MeetingSpec as Zoom request bodies (local start time + IANA zone, whole minutes, marker).
- limits.py: the per-user daily create/update quota (database) and per-account per-second buckets (Redis).
- scopes.py: the granular and classic scope sets, and which are missing from a grant.
- views.py, webhooks.py, tasks.py: the signed webhook endpoint and the work it queues.
- forms.py, options.py: the settings form and the options' defaults.

Decisions worth knowing:
- The marker that finds a meeting whose create answer was lost sits at the end of the agenda.
  Zoom's list call cuts agendas to 250 characters (OpenAPI: "The length of agenda gets truncated
  to 250 characters when you list all meetings"), so find_meeting matches the marker in the listed
  agenda when it is short, and GETs only the meetings whose listed agenda may have been cut.
- The daily quota is counted in the database, not Redis: a Redis restart must not forget it.
- Meeting options (waiting room, ...) apply to meetings created after they change; updates send
  only the fields of the meeting that changed.
"""
