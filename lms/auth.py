"""The authentication backend: Django's ModelBackend, with the user of each request read from the cache.

Every request of a signed-in person loads their user row (AuthenticationMiddleware). Here it comes from the
cache (lms.userfacts.cached_user) in the same round trip as the header's facts (and the session: lms.sessions),
and is read from the database again after any save or delete of the user (their flags, password, groups or
permissions: lms.receivers) and at the latest USER_TIMEOUT seconds after it was read. The password check at
login, the session's auth hash and `user_can_authenticate` (inactive users are signed out) are ModelBackend's,
unchanged.
"""

from django.contrib.auth.backends import ModelBackend

from lms import sessions, userfacts


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id):
        # The user's entries come with the session when lms.sessions could read them in the same round trip.
        user = userfacts.cached_user_from(user_id, sessions.user_read_ahead(user_id), self._load)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _load(self, user_id):
        UserModel = self._user_model()
        try:
            return UserModel._default_manager.get(pk=user_id)
        except UserModel.DoesNotExist:
            return None

    @staticmethod
    def _user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()
