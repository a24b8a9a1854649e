"""Microsoft Teams: a virtual meeting provider on Microsoft Graph (see docs/teams-protocol.md for the protocol).

- provider.py: TeamsProvider, the hooks the framework calls (OAuth declarations, account, meetings, settings page).
- client.py: the Graph client: one session, timeouts, tokens refreshed through virtualmeeting.tokens, error mapping.
- payloads.py: a MeetingSpec as onlineMeeting bodies (instants with the zone's offset), answers as RemoteMeeting.
- models.py: TeamsCreateRequest, each createOrGet remembered before sending (a lost answer is repeated).
- options.py, forms.py: hosts, tenant, permissions; the settings form.

Decisions worth knowing:
- A meeting is changed in place (PATCH of what changed), never deleted and made again: its id and join URL stay.
- Creates use createOrGet with an external id of ours (not in anything attendees read), so a create whose answer
  was lost is repeated and gives the same meeting.
- Teams has no host start link: "Host meeting" opens the join URL; the organizer is known by their sign-in.
"""
