"""The provider registry: an explicit list of dotted paths, imported lazily.

settings.VIRTUALMEETING["PROVIDERS"] lists provider classes; nothing is
discovered by scanning apps. A provider class is imported the first time it is
asked for.
"""

from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from virtualmeeting.conf import vm_setting
from virtualmeeting.providers.base import Provider


@lru_cache(maxsize=1)
def _provider_classes() -> dict[str, type[Provider]]:
    classes = {}
    for path in vm_setting("PROVIDERS"):
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"VIRTUALMEETING['PROVIDERS'] lists {path!r}, which cannot be imported."
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, Provider)) or not cls.id:
            raise ImproperlyConfigured(f"{path!r} is not a virtual meeting provider class with an id.")
        if cls.id in classes:
            raise ImproperlyConfigured(f"Two providers share the id {cls.id!r}.")
        classes[cls.id] = cls
    return classes


def _reset(*, setting, **kwargs):
    if setting == "VIRTUALMEETING":
        _provider_classes.cache_clear()


setting_changed.connect(_reset)


def provider_ids() -> list[str]:
    return list(_provider_classes())


def provider_class(provider_id: str) -> type[Provider]:
    try:
        return _provider_classes()[provider_id]
    except KeyError:
        raise LookupError(f"Unknown virtual meeting provider {provider_id!r}.") from None


def get_provider(provider_id: str) -> Provider:
    """An instance of the provider bound to its site configuration (created on first use)."""
    from virtualmeeting.models import ProviderConfig

    cls = provider_class(provider_id)
    config, _ = ProviderConfig.objects.get_or_create(provider=provider_id)
    return cls(config)


def enabled_providers() -> list[Provider]:
    """Providers that are enabled on the settings page and fully configured, in settings order."""
    from virtualmeeting.models import ProviderConfig

    configs = {c.provider: c for c in ProviderConfig.objects.filter(provider__in=provider_ids(), enabled=True)}
    providers = []
    for provider_id, cls in _provider_classes().items():
        config = configs.get(provider_id)
        if config is None:
            continue
        provider = cls(config)
        if provider.is_configured():
            providers.append(provider)
    return providers
