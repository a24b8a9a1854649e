"""The seminars side of virtual meetings: which meetings should exist, and the link options.

seminars decides; virtualmeeting (which never imports seminars) does the work.
"""

from seminars.models import Room


def virtual_link_options():
    """Choices for the room dialog's "Add virtual room link" dropdown.

    Returns a list of dicts: value, label, needs_connection. "None" and
    "Custom link" always; then one entry per enabled, configured provider.
    """
    from virtualmeeting.registry import enabled_providers

    options = [
        {"value": "", "label": "None", "needs_connection": False},
        {"value": Room.CUSTOM_LINK, "label": "Custom link", "needs_connection": False},
    ]
    for provider in enabled_providers():
        options.append({"value": provider.id, "label": provider.name, "needs_connection": provider.needs_connection})
    return options
