"""The provider registry: an explicit list of dotted paths, imported lazily.

settings.VIRTUALMEETING["PROVIDERS"] lists provider classes; nothing is
discovered by scanning apps. The settings object (conf.vm_settings) imports and
checks them the first time one is asked for.
"""

from virtualmeeting.conf import vm_settings
from virtualmeeting.providers.base import Provider


def _provider_classes() -> dict[str, type[Provider]]:
    return vm_settings.provider_classes


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
