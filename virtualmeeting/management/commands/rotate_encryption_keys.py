"""Re-encrypt every encrypted value with the newest key."""

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import ngettext

from virtualmeeting.fields import EncryptedTextField, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every EncryptedTextField value (client secrets, webhook secrets, OAuth tokens, PKCE "
        "verifiers, meeting passcodes) with the first key of FIELD_ENCRYPTION_KEYS. "
        "To rotate: 1) generate a key (python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'); 2) put it FIRST in FIELD_ENCRYPTION_KEYS, keeping the old "
        "key after it, and restart web and worker processes; 3) run this command; 4) remove the old key and "
        "restart again. Values that no key can decrypt stop the command with an error and nothing of that "
        "model is changed."
    )

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if fields:
                total += self._rotate_model(model, fields)
        done = ngettext(
            "Re-encrypted %(count)d value with the first key.",
            "Re-encrypted %(count)d values with the first key.",
            total,
        )
        self.stdout.write(self.style.SUCCESS(done % {"count": total}))

    def _rotate_model(self, model, fields) -> int:
        names = [f.attname for f in fields]
        columns = [f.column for f in fields]
        table = model._meta.db_table
        pk_column = model._meta.pk.column
        count = 0
        # Raw tokens are rotated without ever holding the plaintext in Python objects or logs.
        with transaction.atomic():
            for row in model.objects.values_list("pk", flat=True).iterator():
                raw = self._raw(model, table, pk_column, columns, row)
                try:
                    rotated = {name: rotate(value) for name, value in zip(names, raw, strict=True) if value}
                except InvalidToken:
                    raise CommandError(
                        f"A value in {table} (row {row}) cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS; "
                        "nothing in that table was changed. Put the key it was written with back into the list."
                    ) from None
                if rotated:
                    self._write(table, pk_column, columns, names, row, rotated)
                    count += len(rotated)
        return count

    @staticmethod
    def _raw(model, table, pk_column, columns, pk):
        from django.db import connection

        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE {quote(pk_column)} = %s",
                [pk],
            )
            return cursor.fetchone()

    @staticmethod
    def _write(table, pk_column, columns, names, pk, rotated):
        from django.db import connection

        quote = connection.ops.quote_name
        by_name = dict(zip(names, columns, strict=True))
        assignments = ", ".join(f"{quote(by_name[name])} = %s" for name in rotated)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk_column)} = %s", [*rotated.values(), pk]
            )
